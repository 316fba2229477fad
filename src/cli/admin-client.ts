import { readStoredAdminToken } from '../runtime/admin-token.js';
import { UsageError } from './usage-error.js';

/** Where the admin commands find Herald and its admin token. */
export interface AdminTarget {
  url: string;
  adminToken: string;
}

/** A non-2xx answer of the admin API, with the spec's error body when there was one. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** A failure to reach the server at all. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** http://HOST:PORT from the environment (what `herald serve` there listens on), else http://127.0.0.1:8080. */
export function defaultUrl(env: Record<string, string | undefined>): string {
  let host = env.HOST || '127.0.0.1';
  // A server bound to every interface is reached on loopback.
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${env.PORT || '8080'}`;
}

/**
 * The target of an admin command: --url, else http://$HOST:$PORT; --admin-token, else
 * HERALD_ADMIN_TOKEN, else the token kept in HERALD_DATA_DIR (default ./data).
 */
export function resolveTarget(
  flags: { url?: string; 'admin-token'?: string },
  env: Record<string, string | undefined>,
): AdminTarget {
  const url = (flags.url ?? defaultUrl(env)).replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url must be a URL like http://127.0.0.1:8080, got "${url}"`);
  }
  const adminToken = flags['admin-token'] || env.HERALD_ADMIN_TOKEN || readStoredAdminToken(env.HERALD_DATA_DIR || './data');
  if (!adminToken) {
    throw new UsageError(
      'no admin token: pass --admin-token, set HERALD_ADMIN_TOKEN, or run where HERALD_DATA_DIR holds the generated admin-token file',
    );
  }
  return { url, adminToken };
}

/** Calls the admin API; returns the parsed JSON body (undefined for 204). */
export async function adminRequest<T>(target: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ConnectionError(`cannot reach Herald at ${target.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { developerMessage?: string; errorType?: string };
    throw new AdminApiError(res.status, e.errorType, e.developerMessage ?? (text.slice(0, 200) || res.statusText));
  }
  return parsed as T;
}
