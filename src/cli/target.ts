import { readStoredAdminToken } from '../runtime/admin-token.js';
import { heraldApi, type HeraldApi } from './api-client.js';
import { UsageError } from './usage-error.js';

/** Where a command finds Herald, and the credential it acts with. */
export interface Target {
  url: string;
  /** The Bearer credential: the admin token, or an API key. */
  bearer: string;
}

type Env = Record<string, string | undefined>;

/** http://HOST:PORT from the environment (what `herald serve` there listens on), else http://127.0.0.1:8080. */
export function defaultUrl(env: Env): string {
  let host = env.HOST || '127.0.0.1';
  // A server bound to every interface is reached on loopback.
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${env.PORT || '8080'}`;
}

/** A flag's value that must be an http:// or https:// URL (a usage error otherwise). */
export function httpUrl(value: string, flag: string, example: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(`${flag} must be an http(s) URL like ${example}, got "${value}"`);
  }
  return value;
}

/** --url, else HERALD_URL, else http://$HOST:$PORT. */
export function resolveUrl(flag: string | undefined, env: Env): string {
  return httpUrl((flag ?? env.HERALD_URL ?? defaultUrl(env)).replace(/\/+$/, ''), '--url', 'http://127.0.0.1:8080');
}

/**
 * The target of an admin command: --admin-token, else HERALD_ADMIN_TOKEN, else the token
 * kept in HERALD_DATA_DIR (default ./data).
 */
export function resolveAdminTarget(flags: { url?: string; 'admin-token'?: string }, env: Env): Target {
  const url = resolveUrl(flags.url, env);
  const bearer = flags['admin-token'] || env.HERALD_ADMIN_TOKEN || readStoredAdminToken(env.HERALD_DATA_DIR || './data');
  if (!bearer) {
    throw new UsageError(
      'no admin token: pass --admin-token, set HERALD_ADMIN_TOKEN, or run where HERALD_DATA_DIR holds the generated admin-token file',
    );
  }
  return { url, bearer };
}

/** The target of an organization command (listen, tail, resend...): --api-key, else HERALD_API_KEY. */
export function resolveKeyTarget(flags: { url?: string; 'api-key'?: string }, env: Env): Target {
  const url = resolveUrl(flags.url, env);
  const bearer = flags['api-key'] || env.HERALD_API_KEY;
  if (!bearer) throw new UsageError('no API key: pass --api-key or set HERALD_API_KEY (an operator makes one with herald key create)');
  return { url, bearer };
}

export const apiOf = (t: Target): HeraldApi => heraldApi(t.url, t.bearer);
