import { parseArgs, type ParseArgsConfig } from 'node:util';
import { apiOf, resolveAdminTarget, resolveKeyTarget } from '../target.js';
import { unwrap, type HeraldApi } from '../api-client.js';
import { UsageError } from '../usage-error.js';

/** Options every admin command takes. */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const TARGET_HELP = `  --url URL            Herald's base URL (default: HERALD_URL, else http://$HOST:$PORT, else http://127.0.0.1:8080)
  --admin-token TOKEN  admin token (default: HERALD_ADMIN_TOKEN, else $HERALD_DATA_DIR/admin-token)
  --json               print the API's JSON answer instead of text`;

/** Options every organization command (listen, tail, resend, subscriptions...) takes. */
export const KEY_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const KEY_HELP = `  --url URL            Herald's base URL (default: HERALD_URL, else http://$HOST:$PORT, else http://127.0.0.1:8080)
  --api-key KEY        the organization's API key (default: HERALD_API_KEY)
  --json               print JSON (one object per line for streams) instead of text`;

/** Parses a subcommand's flags (unknown flags and stray arguments are usage errors). */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];
/** The same, taking up to `positionals` arguments. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  opts: { positionals: number },
): { values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>['values']; positionals: string[] };
export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig['options']>, opts?: { positionals: number }) {
  if (!opts) return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  const parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  if (parsed.positionals.length > opts.positionals) throw new UsageError(`unexpected argument "${parsed.positionals[opts.positionals]}"`);
  return parsed;
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

/** The admin API's client for these flags. */
export const adminApi = (flags: { url?: string; 'admin-token'?: string }): HeraldApi => apiOf(resolveAdminTarget(flags, process.env));

/** The organization API's client for these flags (acting with the API key). */
export const keyApi = (flags: { url?: string; 'api-key'?: string }): HeraldApi => apiOf(resolveKeyTarget(flags, process.env));

export const printJson = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** A comma-separated flag value as a list (blanks dropped); an empty list is a usage error. */
export function listOf(value: string, flag = 'the list'): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new UsageError(`${flag} must name at least one value`);
  return list;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A flag that must be a UUID (a subscription, a listener). */
export function uuidFlag(value: string | undefined, flag: string): string {
  const v = requireFlag(value, flag);
  if (!UUID.test(v)) throw new UsageError(`${flag} must be a UUID, got "${v}"`);
  return v;
}

/** A subcommand's --help, or a usage error for an unknown one. */
export function isHelp(sub: string | undefined): boolean {
  return sub === undefined || sub === 'help' || sub === '--help' || sub === '-h';
}

/** The catalog's entry of an event (GET /events), or a usage error naming the events there are. */
export async function catalogEvent(api: HeraldApi, eventName: string) {
  const catalog = unwrap(await api.GET('/events'));
  const entry = catalog.find((e) => e.eventName === eventName);
  if (!entry) throw new UsageError(`unknown event "${eventName}"; the catalog has: ${catalog.map((e) => e.eventName).join(', ')}`);
  return entry;
}

/** Runs a streaming command until Ctrl-C (SIGINT) or SIGTERM aborts its signal. */
export async function untilInterrupted<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
