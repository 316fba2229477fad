import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api-schema.js';

/**
 * The CLI's client of Herald's HTTP API: openapi-fetch over the types generated from
 * Herald's own OpenAPI document (api-schema.ts, scripts/generate-api-client.ts), so a
 * path, a parameter or a body the server does not take fails the type check.
 */
export type HeraldApi = Client<paths>;

/** A non-2xx answer, with the spec's error body when there was one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A failure to reach the server at all. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** A client of the Herald at `url` acting with `bearer` (an API key, an access token or the admin token). */
export function heraldApi(url: string, bearer: string): HeraldApi {
  return createClient<paths>({
    baseUrl: url,
    headers: { authorization: `Bearer ${bearer}` },
    fetch: async (request) => {
      try {
        return await fetch(request);
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ConnectionError(`cannot reach Herald at ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
    },
  });
}

/** The answer's data, or an ApiError with the server's developerMessage and errorType. */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.response.ok) return answer.data as T;
  const e = (answer.error ?? {}) as { developerMessage?: unknown; errorType?: unknown };
  const message = typeof e.developerMessage === 'string' ? e.developerMessage : typeof answer.error === 'string' ? answer.error.slice(0, 200) : answer.response.statusText;
  throw new ApiError(answer.response.status, typeof e.errorType === 'string' ? e.errorType : undefined, message || `HTTP ${answer.response.status}`);
}
