import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { makeLogger } from '../logger.js';
import { DataDirLockedError } from '../store/data-dir-lock.js';
import { migrate } from '../store/migrate.js';
import { resealSecrets } from '../domain/reseal-secrets.js';
import { SecretUnavailableError } from '../domain/sealed-secrets.js';
import { resolveSecretBox } from '../runtime/encryption-key.js';
import { openDb } from '../store/open-db.js';
import { startHerald, type Roles } from '../runtime/start-herald.js';
import { startTracing } from '../runtime/tracing.js';
import { VERSION } from '../runtime/version.js';
import { ApiError, ConnectionError } from './api-client.js';
import { keyCommand } from './commands/key.js';
import { listenCommand } from './commands/listen.js';
import { resendCommand } from './commands/resend.js';
import { rotateKeyCommand, subscriptionsCommand } from './commands/subscriptions.js';
import { tailCommand } from './commands/tail.js';
import { triggerCommand } from './commands/trigger.js';
import { orgCommand } from './commands/org.js';
import { UsageError } from './usage-error.js';

const USAGE = `herald ${VERSION}: signed, durable webhook delivery

Usage: herald <command> [options]

Service:
  serve            run the API and the delivery worker in one process (npm start)
  api              run the HTTP API only
  worker           run the delivery worker only (PostgreSQL: run as many as you like)
  migrate          apply database migrations and exit
  reseal           seal secrets at rest under HERALD_ENCRYPTION_KEY (after a key rotation) and exit

Administration (calls a running Herald's admin API with the admin token):
  org create --name NAME
  org list
  key create --org UUID --scopes READ:PRODUCT,READ:PURCHASE [--name NAME] [--test-mode]
  key list --org UUID
  key delete --org UUID --key API_KEY_ID
  trigger EVENT [--payload FILE]   publish an example (or given) event

Development (calls a running Herald with an organization's API key, --api-key or HERALD_API_KEY):
  listen --forward-to URL [--events A,B]   deliver the organization's events to a local server
  tail [--subscription UUID] [--failures]  print delivery attempts as they happen
  resend --subscription UUID (--message ID | --all)
  subscriptions list | create | delete
  rotate-key --subscription UUID [--overlap SECONDS]

Each client command takes --url URL (default HERALD_URL, else http://$HOST:$PORT) and --json.

Every command takes --help. Environment variables configure the service; see docs/configuration.md.
`;

/** Exit statuses: 0 ok, 1 runtime failure (or an error answer of the server), 2 bad configuration or usage. */
export const EXIT_USAGE = 2;

function fail(message: string, status: number): never {
  console.error(`herald: ${message}`);
  process.exit(status);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    throw err;
  }
}

async function runService(roles: Roles): Promise<void> {
  const config = readConfig();
  const log = makeLogger(config);
  const tracing = startTracing(process.env, log);
  let herald;
  try {
    herald = await startHerald({ config, roles, log, tracing: tracing.on });
  } catch (err) {
    if (err instanceof DataDirLockedError) fail(err.message, 1);
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    if (err instanceof SecretUnavailableError) fail(err.message, 1);
    log.fatal({ err }, 'Herald failed to start');
    await new Promise((r) => setTimeout(r, 50)); // let the log line out
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    // The bound holds whatever is in flight: close() gives work HERALD_SHUTDOWN_TIMEOUT_MS,
    // and if closing itself hangs (a request or a connection that never ends), the
    // process exits anyway shortly after. Unfinished deliveries are sent again when their
    // leases run out; unacknowledged requests were never acknowledged.
    setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish within its bound; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
    await herald.close();
    await tracing.shutdown().catch((err: unknown) => log.warn({ err }, 'exporting the last spans failed'));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function runMigrate(): Promise<void> {
  const config = readConfig();
  const db = await openDb(config);
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema up to date');
  } finally {
    await db.close();
  }
}

/**
 * Moves every secret at rest under HERALD_ENCRYPTION_KEY, reading with
 * HERALD_PREVIOUS_ENCRYPTION_KEYS; the last step of a key rotation (docs/operations.md).
 */
async function runReseal(): Promise<void> {
  const config = readConfig();
  let secrets;
  try {
    secrets = resolveSecretBox(config).box;
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    throw err;
  }
  const db = await openDb(config);
  try {
    await migrate(db);
    const report = await resealSecrets({ db, secrets });
    console.log(
      `resealed under key ${secrets.currentKeyId}: ${report.subscriptionKeys} subscription signing key(s), ${report.tokenKeys} token signing key(s); ` +
        'every secret is now under this key',
    );
  } finally {
    await db.close();
  }
}

/** Each service command's --help: what it does, and that it takes no flags (settings are environment variables). */
const SERVICE_HELP: Record<'serve' | 'api' | 'worker' | 'migrate' | 'reseal', string> = {
  serve: 'run the API and the delivery worker in one process (what npm start runs)',
  api: 'run the HTTP API only',
  worker: 'run the delivery worker only (on PostgreSQL, run as many as you like)',
  migrate: 'apply the database migrations and exit',
  reseal: 'seal every secret at rest under HERALD_ENCRYPTION_KEY (after an encryption-key rotation) and exit',
};

/**
 * A service command's flags: only --help (-h), which prints its help and does nothing
 * else. Anything else is a usage error (exit 2) before anything runs.
 */
function serviceFlags(command: keyof typeof SERVICE_HELP, args: string[]): 'run' | 'helped' {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals: false });
  if (!values.help) return 'run';
  console.log(`Usage: herald ${command}

  ${SERVICE_HELP[command]}.

It takes no flags: settings are environment variables (docs/configuration.md).`);
  return 'helped';
}

/** How long past HERALD_SHUTDOWN_TIMEOUT_MS closing the database and listeners may take. */
const SHUTDOWN_GRACE_MS = 2000;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
    case 'api':
    case 'worker':
      if (serviceFlags(command, rest) === 'helped') return;
      return runService({ api: command !== 'worker', worker: command !== 'api' });
    case 'migrate':
      if (serviceFlags(command, rest) === 'helped') return;
      return runMigrate();
    case 'reseal':
      if (serviceFlags(command, rest) === 'helped') return;
      return runReseal();
    case 'org':
      return orgCommand(rest);
    case 'key':
      return keyCommand(rest);
    case 'trigger':
      return triggerCommand(rest);
    case 'listen':
      return listenCommand(rest);
    case 'tail':
      return tailCommand(rest);
    case 'resend':
      return resendCommand(rest);
    case 'subscriptions':
      return subscriptionsCommand(rest);
    case 'rotate-key':
      return rotateKeyCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    case '--version':
    case 'version':
      console.log(VERSION);
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, EXIT_USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof DataDirLockedError) fail(err.message, 1);
  if (err instanceof UsageError) fail(err.message, EXIT_USAGE);
  if (err instanceof SecretUnavailableError) fail(err.message, 1);
  if (err instanceof ApiError) fail(`${err.status}${err.errorType ? ` ${err.errorType}` : ''}: ${err.message}`, 1);
  if (err instanceof ConnectionError) fail(err.message, 1);
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    fail(err.message, EXIT_USAGE);
  }
  console.error(err);
  process.exit(1);
});
