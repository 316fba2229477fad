import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));

/**
 * A PostgreSQL server of a test's own (scripts/temp-postgres.sh: the machine's initdb
 * and pg_ctl, a temp dir, a free port), which the test may stop, start and restart
 * without disturbing the server the other tests share.
 */
export interface PostgresServer {
  url: string;
  /** `pg_ctl restart -m fast`: terminates every connection, as an operator's restart does. */
  restart(): void;
  stop(): void;
  start(): void;
  /** Stops the server and removes its files. */
  destroy(): void;
}

/** Whether this machine can start a PostgreSQL server of a test's own. */
export function canStartPostgres(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v initdb && command -v pg_ctl'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function startPostgresServer(): PostgresServer {
  const out = execFileSync('bash', [`${SCRIPTS}temp-postgres.sh`], { encoding: 'utf8' });
  const url = /HERALD_PG_URL='([^']+)'/.exec(out)?.[1];
  const dir = /HERALD_PG_DIR='([^']+)'/.exec(out)?.[1];
  if (!url || !dir) throw new Error(`temp-postgres.sh printed no URL: ${out}`);
  const asPostgres = (command: string) => {
    const args = process.getuid?.() === 0 ? ['su', 'postgres', '-s', '/bin/sh', '-c', command] : ['sh', '-c', command];
    execFileSync(args[0]!, args.slice(1), { stdio: 'ignore' });
  };
  const pgCtl = (action: string) => asPostgres(`pg_ctl -D '${dir}/data' -l '${dir}/pg.log' -w -m fast ${action}`);
  // `pg_ctl restart` reuses the server's options; a plain start needs them again (as temp-postgres.sh gives them).
  const port = new URL(url).port;
  const options = `-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300`;
  return {
    url,
    restart: () => pgCtl('restart'),
    stop: () => pgCtl('stop'),
    start: () => pgCtl(`-o "${options}" start`),
    destroy: () => execFileSync('bash', [`${SCRIPTS}temp-postgres-stop.sh`, dir], { stdio: 'ignore' }),
  };
}
