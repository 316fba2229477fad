/**
 * Herald's one typed configuration: defaults, overridden by the environment.
 *
 * Every setting is declared once in SETTINGS (name, env variable, default, parser,
 * description); `docs/configuration.md` lists them and a test keeps the two in step.
 * A bad value raises ConfigError naming the variable; the CLI prints it and exits 2.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  default: T;
  parse: Parser<T>;
  description: string;
  /** Shown in docs instead of the default when the default is computed or secret. */
  defaultLabel?: string;
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

const boolean: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

const text: Parser<string> = (raw) => raw;

/** A value, or the word `off` (any case), which stands for `off`. */
const orOff =
  <T, O>(parse: Parser<T>, off: O): Parser<T | O> =>
  (raw) =>
    raw.trim().toLowerCase() === 'off' ? off : parse(raw);

/** A TCP port, or `off` (null). */
const portOrOff = orOff(integer(0, 65535), null);

/** A requests-a-minute limit; `0` or `off` turns it off (0). */
const rateLimit = orOff(integer(0, 10_000_000), 0);

const optionalText: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);

const postgresUrl: Parser<string | undefined> = (raw) => {
  if (raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL like postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return raw;
};

const smtpUrl: Parser<string | undefined> = (raw) => {
  if (raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL like smtp://user:password@host:587');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`must start with smtp:// or smtps://, got "${url.protocol}//"`);
  }
  return raw;
};

/**
 * An AES-256 key: 32 random bytes written as 64 hex digits or as base64/base64url
 * (`openssl rand -base64 32`).
 */
export const parseEncryptionKey = (raw: string): Buffer => {
  const v = raw.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(v)
    ? Buffer.from(v, 'hex')
    : /^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)
      ? Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : undefined;
  if (!bytes || bytes.length !== 32) {
    throw new Error('must be 32 random bytes as 64 hex digits or base64 (openssl rand -base64 32)');
  }
  return bytes;
};

const optionalEncryptionKey: Parser<Buffer | undefined> = (raw) => (raw.trim() === '' ? undefined : parseEncryptionKey(raw));

const encryptionKeyList: Parser<Buffer[]> = (raw) =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part, i) => {
      try {
        return parseEncryptionKey(part);
      } catch (err) {
        throw new Error(`item ${i + 1}: ${(err as Error).message}`);
      }
    });

/**
 * `HERALD_RETRY_SCHEDULE`: comma-separated delays in seconds; the n-th value is the
 * delay before retry n. An empty list means one attempt and no retry.
 */
export const parseRetrySchedule: Parser<number[]> = (raw) => {
  const trimmed = raw.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((part, i) => {
    const v = part.trim();
    if (!/^\d+$/.test(v)) throw new Error(`item ${i + 1} ("${part}") must be a whole number of seconds`);
    const n = Number(v);
    if (n > 7 * 24 * 3600) throw new Error(`item ${i + 1} (${n}) must be at most one week`);
    return n;
  });
};

/** The original Pusher service: 10 retries 60 s apart, 9 x 600 s, then hourly to ~70 h. */
export const ORIGINAL_RETRY_SCHEDULE: number[] = [
  ...Array<number>(10).fill(60),
  ...Array<number>(9).fill(600),
  ...Array<number>(68).fill(3600),
];

const SETTINGS = {
  port: {
    env: 'PORT',
    default: 8080,
    parse: integer(0, 65535),
    description: 'TCP port the HTTP API listens on (0 picks a free port).',
  },
  host: {
    env: 'HOST',
    default: '127.0.0.1',
    parse: text,
    description: 'Interface the HTTP API binds to. Use 0.0.0.0 to accept connections from other machines.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    default: undefined,
    parse: postgresUrl,
    description:
      'PostgreSQL connection URL. When set, Herald uses this server through a connection pool; when unset, the embedded PGlite database in HERALD_DATA_DIR.',
    defaultLabel: '(unset: embedded PGlite)',
  },
  dataDir: {
    env: 'HERALD_DATA_DIR',
    default: './data',
    parse: text,
    description:
      'Directory for the embedded database files and the generated admin token. Only one Herald process may use it at a time.',
  },
  dbPoolSize: {
    env: 'HERALD_DB_POOL_SIZE',
    default: 10,
    parse: integer(1, 500),
    description: 'Maximum PostgreSQL connections per process (ignored on PGlite, which has one).',
  },
  adminToken: {
    env: 'HERALD_ADMIN_TOKEN',
    default: undefined,
    parse: (raw: string) => {
      if (raw === '') return undefined;
      if (raw.length < 24) throw new Error('must be at least 24 characters long');
      return raw;
    },
    description:
      'Bearer token for the /admin routes. Unset on the embedded database: generated on first start and kept in HERALD_DATA_DIR/admin-token. Unset on PostgreSQL: the admin API is disabled.',
    defaultLabel: '(generated on PGlite)',
  },
  encryptionKey: {
    env: 'HERALD_ENCRYPTION_KEY',
    default: undefined,
    parse: optionalEncryptionKey,
    description:
      'AES-256 key (64 hex digits or base64 of 32 bytes) that seals subscription signing keys and Herald\'s token signing keys in the database. Unset on the embedded database: generated on first start and kept in HERALD_DATA_DIR/encryption-key (0600). Required with DATABASE_URL.',
    defaultLabel: '(generated on PGlite)',
  },
  previousEncryptionKeys: {
    env: 'HERALD_PREVIOUS_ENCRYPTION_KEYS',
    default: [],
    parse: encryptionKeyList,
    description:
      'Comma-separated keys that sealed secrets may still be under (key rotation): read with them, and resealed under HERALD_ENCRYPTION_KEY at start and by `herald reseal`.',
    defaultLabel: '(none)',
  },
  logLevel: {
    env: 'HERALD_LOG_LEVEL',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    description: 'pino log level.',
  },
  requestLogLevel: {
    env: 'HERALD_REQUEST_LOG_LEVEL',
    default: 'info',
    parse: oneOf('info', 'debug', 'off'),
    description:
      'The level of the one log line each HTTP request writes (request id, method, route pattern, status, milliseconds; never the raw URL or a header). off: none.',
  },
  attemptLogLevel: {
    env: 'HERALD_ATTEMPT_LOG_LEVEL',
    default: 'info',
    parse: oneOf('info', 'debug', 'off'),
    description:
      'The level of the one log line each delivery attempt writes (subscription, destination origin, attempt, status, latency, error class, outcome; never a key or a body). off: none.',
  },
  logFormat: {
    env: 'HERALD_LOG_FORMAT',
    default: 'auto',
    parse: oneOf('auto', 'json', 'pretty'),
    description: 'json: one JSON object per line; pretty: human-readable; auto: pretty when stdout is a terminal.',
  },
  shutdownTimeoutMs: {
    env: 'HERALD_SHUTDOWN_TIMEOUT_MS',
    default: 10_000,
    parse: integer(0, 600_000),
    description: 'On SIGTERM/SIGINT, how long in-flight requests and deliveries may run before Herald exits anyway.',
  },
  accessTokenTtlSeconds: {
    env: 'HERALD_ACCESS_TOKEN_TTL_SECONDS',
    default: 7200,
    parse: integer(60, 86_400),
    description: 'Lifetime of OAuth access tokens issued by POST /token (the original: about 2 hours).',
  },
  consoleSessionSeconds: {
    env: 'HERALD_CONSOLE_SESSION_SECONDS',
    default: 3600,
    parse: integer(60, 43_200),
    description:
      'Lifetime of a Console sign-in (the HttpOnly session cookie and the access token or operator session it holds). Sign in again after it.',
  },
  credentialCacheSeconds: {
    env: 'HERALD_CREDENTIAL_CACHE_SECONDS',
    default: 5,
    parse: integer(0, 60),
    description:
      'How long an access token is trusted before Herald re-checks that the API key or app connection it came from still exists. Revoking a key stops its access tokens within this bound.',
  },
  workerHealthPort: {
    env: 'HERALD_WORKER_HEALTH_PORT',
    default: 9091,
    parse: portOrOff,
    description:
      'Port of the /healthz, /readyz and /metrics listener of a process that runs the worker without the API (`herald worker`), on HOST; `off` to run none. `0` picks a free port.',
  },
  maxSubscriptionsPerOrganization: {
    env: 'HERALD_MAX_SUBSCRIPTIONS_PER_ORGANIZATION',
    default: 100,
    parse: integer(1, 100_000),
    description:
      'Live subscriptions an organization may have (test and live mode together); a create past it is 400 SUBSCRIPTION_LIMIT_REACHED. The original caps them too.',
  },
  rateLimitCredentialPerMinute: {
    env: 'HERALD_RATE_LIMIT_CREDENTIAL_PER_MINUTE',
    default: 60_000,
    parse: rateLimit,
    description:
      'Requests a minute one credential (API key or access token, as Bearer or x-api-key) may send to the organization and business APIs and to the publish endpoint (POST /admin/organizations/{uuid}/events, by the admin token); requests without one count per client IP. 1,000 a second by default: a producer publishing at full speed stays under it, a runaway loop is cut. Past it: 429 TOO_MANY_REQUESTS with Retry-After. Counted per API process. 0 or off: no limit.',
  },
  rateLimitTokenPerMinute: {
    env: 'HERALD_RATE_LIMIT_TOKEN_PER_MINUTE',
    default: 120,
    parse: rateLimit,
    description:
      'POST /token requests a minute per client IP, and per API key exchanged (the jwt-bearer assertion). Counted per API process. 0 or off: no limit.',
  },
  rateLimitRefusedPerMinute: {
    env: 'HERALD_RATE_LIMIT_REFUSED_PER_MINUTE',
    default: 0,
    parse: rateLimit,
    description:
      'Refused credentials (401) a minute per client IP on the organization and business APIs; past it, that IP gets 429 for every request, valid credentials included, until its minute ends. Bounds a client that presents a new made-up credential each time (each gets a fresh per-credential count). Counted per API process. 0 or off (the default): no limit.',
  },
  rateLimitAdminPerMinute: {
    env: 'HERALD_RATE_LIMIT_ADMIN_PER_MINUTE',
    default: 600,
    parse: rateLimit,
    description:
      'Admin API (/admin/...) requests a minute per client IP, but for the publish endpoint (counted per credential). Counted per API process. 0 or off: no limit.',
  },
  trustProxy: {
    env: 'HERALD_TRUST_PROXY',
    default: false as boolean | string,
    parse: (raw: string): boolean | string => {
      const v = raw.trim().toLowerCase();
      if (v === '' || v === 'false') return false;
      if (v === 'true') return true;
      const parts = v.split(',').map((p) => p.trim()).filter((p) => p !== '');
      for (const p of parts) {
        if (!/^(?:loopback|linklocal|uniquelocal|\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?|[0-9a-f.]*:[0-9a-f.:]*(?:\/\d{1,3})?)$/.test(p)) {
          throw new Error(`must be true, false, or comma-separated proxy addresses or CIDRs (10.0.0.0/8,loopback); got "${p}"`);
        }
      }
      return parts.join(',');
    },
    description:
      'Which X-Forwarded-For entries to believe for the client IP that per-IP rate limits count by, when Herald runs behind a reverse proxy or load balancer: the proxies\' addresses or CIDRs, comma-separated (10.0.0.0/8,loopback), or true when every request comes through a proxy. false: the TCP peer is the client.',
  },
  retentionDays: {
    env: 'HERALD_RETENTION_DAYS',
    default: 30,
    parse: integer(1, 3650),
    description:
      'Days a finished message is kept: delivered deliveries with their attempts, failed and cancelled ones of deleted subscriptions, events no delivery references, and mails go after this long. Undelivered messages of a live subscription stay until delivered, resent or the subscription is deleted. A messageId can be published again once its event is gone.',
  },
  retentionIntervalSeconds: {
    env: 'HERALD_RETENTION_INTERVAL_SECONDS',
    default: 600,
    parse: orOff(integer(10, 86_400), null),
    description:
      'How often a worker process sweeps for rows older than HERALD_RETENTION_DAYS (the first sweep comes a minute after start, or sooner). `off`: this process does not sweep (another worker does). Several workers on one PostgreSQL take turns.',
  },
  retentionBatchSize: {
    env: 'HERALD_RETENTION_BATCH_SIZE',
    default: 1000,
    parse: integer(10, 100_000),
    description:
      'Rows retention reads and deletes per statement. Each batch is a short transaction, followed by a pause as long as it took, so deliveries go on during a sweep.',
  },
  allowInsecureDestinations: {
    env: 'HERALD_ALLOW_INSECURE_DESTINATIONS',
    default: false,
    parse: boolean,
    description:
      'Development and tests only: allow http:// destinations and destinations on loopback or private addresses.',
  },
  deliveryTimeoutMs: {
    env: 'HERALD_DELIVERY_TIMEOUT_MS',
    default: 10_000,
    parse: integer(100, 120_000),
    description: 'Timeout of one webhook request (connect to last byte), as in the original (10 s).',
  },
  retrySchedule: {
    env: 'HERALD_RETRY_SCHEDULE',
    default: ORIGINAL_RETRY_SCHEDULE,
    parse: parseRetrySchedule,
    description:
      'Comma-separated seconds; the n-th value is the delay before retry n ("60,60,600": one attempt and at most three retries). Default: the original service, 10 x 60 s, 9 x 600 s, then hourly up to about 70 h.',
    defaultLabel: '10 x 60, 9 x 600, 68 x 3600',
  },
  exhaustedSubscription: {
    env: 'HERALD_EXHAUSTED_SUBSCRIPTION',
    default: 'delete',
    parse: oneOf('delete', 'keep'),
    description:
      'What happens to a subscription whose retry schedule runs out: delete it (the original) or keep it FAILING. Its undelivered messages stay listed either way.',
  },
  workerConcurrency: {
    env: 'HERALD_WORKER_CONCURRENCY',
    default: 64,
    parse: integer(1, 10_000),
    description: 'Deliveries one worker process sends at the same time.',
  },
  perDestinationConcurrency: {
    env: 'HERALD_PER_DESTINATION_CONCURRENCY',
    default: 32,
    parse: integer(1, 1000),
    description:
      'The most deliveries all workers together send at the same time to one destination origin. Each origin starts at 8 (or this, if lower) and grows while it answers 2xx fast, halves on 429/502/503/504, timeouts and refused connections, and pauses for a Retry-After; the learned limit is shared by the fleet in the database. Keep it at most half of HERALD_WORKER_CONCURRENCY, so one busy destination leaves room for the others.',
  },
  leaseSeconds: {
    env: 'HERALD_LEASE_SECONDS',
    default: 60,
    parse: integer(5, 3600),
    description:
      'How long a worker owns a claimed delivery. An attempt whose worker died is retried after its lease expires; must exceed the delivery timeout.',
  },
  heartbeatSeconds: {
    env: 'HERALD_HEARTBEAT_SECONDS',
    default: 2,
    parse: integer(1, 60),
    description:
      'PostgreSQL: how often each worker says it is alive. The deliveries of a worker silent for 3 beats (SIGKILL, a lost machine) are released to the others then, not when their leases run out.',
  },
  pollIntervalMs: {
    env: 'HERALD_POLL_INTERVAL_MS',
    default: 2000,
    parse: integer(50, 60_000),
    description: 'Safety-net poll for due work. New work wakes workers at once (LISTEN/NOTIFY or in-process); retries come due on this tick.',
  },
  smtpUrl: {
    env: 'HERALD_SMTP_URL',
    default: undefined,
    parse: smtpUrl,
    description: 'SMTP server for mails to contactEmail (smtp:// or smtps://). Unset: mails are kept in the store and listed at GET /admin/mails.',
    defaultLabel: '(unset: mails kept in the store)',
  },
  mailFrom: {
    env: 'HERALD_MAIL_FROM',
    default: 'Herald <herald@localhost>',
    parse: text,
    description: 'From address of the mails Herald sends.',
  },
  publicUrl: {
    env: 'HERALD_PUBLIC_URL',
    default: undefined,
    parse: optionalText,
    description: 'Base URL clients use to reach Herald; used as the issuer of access tokens and in mails. Default: http://HOST:PORT.',
    defaultLabel: '(http://HOST:PORT)',
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

/** Reads the configuration from an environment; throws ConfigError listing every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[setting.env];
    if (raw === undefined) {
      out[key] = setting.default;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (err) {
      problems.push(`${setting.env}: ${(err as Error).message}`);
    }
  }
  Object.assign(out, overrides);
  const config = out as Config;
  if (problems.length === 0 && config.leaseSeconds * 1000 <= config.deliveryTimeoutMs) {
    problems.push(
      `HERALD_LEASE_SECONDS: must be longer than HERALD_DELIVERY_TIMEOUT_MS (${config.deliveryTimeoutMs} ms), got ${config.leaseSeconds} s`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Setting descriptions for docs/configuration.md and `herald config`. */
export function describeSettings(): { env: string; default: string; description: string }[] {
  return Object.values(SETTINGS as Record<string, Setting<unknown>>).map((s) => ({
    env: s.env,
    default: s.defaultLabel ?? (s.default === undefined ? '(unset)' : String(s.default)),
    description: s.description,
  }));
}
