import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveTarget, type AdminTarget } from '../admin-client.js';
import { UsageError } from '../usage-error.js';

/** Options every admin command takes. */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const TARGET_HELP = `  --url URL            Herald's base URL (default: http://$HOST:$PORT, else http://127.0.0.1:8080)
  --admin-token TOKEN  admin token (default: HERALD_ADMIN_TOKEN, else $HERALD_DATA_DIR/admin-token)
  --json               print the API's JSON answer instead of text`;

/** Parses a subcommand's flags (unknown flags and stray arguments are usage errors). */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

export const targetOf = (flags: { url?: string; 'admin-token'?: string }): AdminTarget => resolveTarget(flags, process.env);

export const printJson = (v: unknown) => console.log(JSON.stringify(v, null, 2));
