// `npm run bench`: the delivery engine's benchmark on PGlite and PostgreSQL, one table.
// PostgreSQL: HERALD_BENCH_DATABASE_URL (a server whose user may create databases), or
// else a throwaway server started from the machine's initdb/pg_ctl (durable settings).
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

interface Result {
  backend: string;
  raw: number;
  sustained: number;
  ratio: number;
  drain: number;
  p50: number;
  p99: number;
  fanOutSeconds: number;
  peakRssMiB: number;
  events: number;
  httpAccepted: number;
  httpDelivered: number;
  httpEvents: number;
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function runBackend(backend: 'pglite' | 'postgres', pgUrl?: string): Promise<Result> {
  const port = await freePort();
  const receiver = fork(here('./receiver.ts'), [String(port)], { execArgv: ['--import', 'tsx'] });
  await new Promise<void>((r) => receiver.on('message', (m: { ready?: boolean }) => m.ready && r()));
  const scenario: ChildProcess = fork(here('./scenario.ts'), [backend, String(port), pgUrl ?? ''], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The receiver reports its receipts to the scenario.
  receiver.on('message', (m) => scenario.connected && scenario.send(m as object));
  let out = '';
  scenario.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => scenario.on('exit', r));
  receiver.kill();
  if (code !== 0) throw new Error(`${backend} benchmark failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

async function main() {
  const results: Result[] = [];
  console.error('bench: PGlite...');
  results.push(await runBackend('pglite'));

  let serverUrl = process.env.HERALD_BENCH_DATABASE_URL;
  let stopDir: string | undefined;
  if (!serverUrl) {
    try {
      const out = execFileSync('bash', [here('../scripts/temp-postgres.sh')], { env: { ...process.env, HERALD_PG_DURABLE: '1' } }).toString();
      serverUrl = /HERALD_PG_URL='([^']+)'/.exec(out)?.[1];
      stopDir = /HERALD_PG_DIR='([^']+)'/.exec(out)?.[1];
    } catch (err) {
      console.error(`bench: no PostgreSQL (${(err as Error).message.split('\n')[0]}); set HERALD_BENCH_DATABASE_URL`);
    }
  }
  if (serverUrl) {
    console.error('bench: PostgreSQL...');
    const name = `herald_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      results.push(await runBackend('postgres', url.toString()));
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      if (stopDir) execFileSync('bash', [here('../scripts/temp-postgres-stop.sh'), stopDir]);
    }
  }

  const rows: [string, (r: Result) => string, string][] = [
    ['(a) raw limit: bare undici loop, req/s', (r) => r.raw.toFixed(0), ''],
    ['(b) sustained end-to-end deliveries/s', (r) => r.sustained.toFixed(0), ''],
    ['(c) ratio b/a', (r) => r.ratio.toFixed(2), 'PostgreSQL >= 0.2, PGlite >= 0.1'],
    ['(b2) drain of 10,000 accepted events, deliveries/s', (r) => r.drain.toFixed(0), ''],
    ['(b2)/a', (r) => (r.drain / r.raw).toFixed(2), ''],
    ['(d) p50 accepted-to-received at 500 ev/s, ms', (r) => r.p50.toFixed(1), ''],
    ['(d) p99 accepted-to-received at 500 ev/s, ms', (r) => r.p99.toFixed(1), '<= 50'],
    ['(e) fan-out: 1 event to 10,000 subscriptions, s', (r) => r.fanOutSeconds.toFixed(2), '<= 3'],
    ['(g) HTTP publish, 32 clients, 1 destination: accepted/s', (r) => r.httpAccepted.toFixed(0), ''],
    ['(g) ... delivered/s (first request to last receipt)', (r) => r.httpDelivered.toFixed(0), ''],
    ['(g) delivered/s over raw', (r) => (r.httpDelivered / r.raw).toFixed(2), ''],
    ['(f) peak RSS of the Herald process, MiB', (r) => r.peakRssMiB.toFixed(0), ''],
  ];
  const header = ['measure', ...results.map((r) => r.backend), 'target'];
  const table = [header, header.map(() => '---'), ...rows.map(([name, f, target]) => [name, ...results.map(f), target])];
  console.log(table.map((r) => `| ${r.join(' | ')} |`).join('\n'));
  console.log(`\n(b) moved ${results.map((r) => `${r.events} events on ${r.backend}`).join(', ')}; 64 concurrent sends, 16 receiver origins.`);
  console.log(`(g) published ${results.map((r) => `${r.httpEvents} events on ${r.backend}`).join(', ')} through POST /admin/organizations/{org}/events, in the bench process.`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
