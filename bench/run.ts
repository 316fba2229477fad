// `npm run bench`: the delivery engine's benchmark on PGlite and PostgreSQL, one table,
// with the queues a Node team would build instead (bench/peers.ts) as extra columns:
// graphile-worker on the same PostgreSQL, BullMQ on a Redis server started here.
// PostgreSQL: HERALD_BENCH_DATABASE_URL (a server whose user may create databases), or
// else a throwaway server started from the machine's initdb/pg_ctl (durable settings).
// Redis: a throwaway redis-server (AOF, fsync every second) if one is on PATH.
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** (h) seconds from a worker's SIGKILL until every delivery it held is delivered (PostgreSQL only). */
  recoverySeconds: number | null;
  /** (b2) with 5,000 and 50,000 accepted events: is the drain flat as the backlog grows? */
  drainSmall: number;
  drainLarge: number;
  peakRssMiB: number;
  events: number;
  httpAccepted: number;
  httpDelivered: number;
  httpEvents: number;
}

/** A peer queue's results (bench/peers.ts): the rows it measures. */
type PeerResult = Pick<Result, 'backend' | 'raw' | 'sustained' | 'ratio' | 'drain' | 'p50' | 'p99' | 'peakRssMiB' | 'events'> & { drainEvents: number };
/** A peer's column: its results, or why it was not measured. */
type PeerColumn = { title: string; result: PeerResult } | { title: string; missing: string };

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs one benchmark process (`script` <receiverPort> ...args) against a receiver of its own; its last stdout line is JSON. */
async function runScript<T>(script: string, name: string, args: string[]): Promise<T> {
  const port = await freePort();
  const receiver = fork(here('./receiver.ts'), [String(port)], { execArgv: ['--import', 'tsx'] });
  await new Promise<void>((r) => receiver.on('message', (m: { ready?: boolean }) => m.ready && r()));
  const scenario: ChildProcess = fork(here(script), [name, String(port), ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The receiver reports its receipts to the scenario.
  receiver.on('message', (m) => scenario.connected && scenario.send(m as object));
  let out = '';
  scenario.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => scenario.on('exit', r));
  receiver.kill();
  if (code !== 0) throw new Error(`${name} benchmark failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** graphile-worker's two configurations (bench/peers.ts): the library's defaults, and its documented batching. */
const GRAPHILE = [
  ['graphile', 'graphile-worker'],
  ['graphile-batched', 'graphile-worker, batched'],
] as const;

const runBackend = (backend: 'pglite' | 'postgres', pgUrl?: string) => runScript<Result>('./scenario.ts', backend, [pgUrl ?? '']);
/** A peer's column; a peer that fails says so in its column (its error is on stderr) instead of losing Herald's figures. */
async function runPeer(peer: 'graphile' | 'graphile-batched' | 'bullmq', title: string, target: string): Promise<PeerColumn> {
  try {
    return { title, result: await runScript<PeerResult>('./peers.ts', peer, [target]) };
  } catch (err) {
    console.error(`bench: ${title}: ${(err as Error).message}`);
    return { title, missing: 'failed (see stderr)' };
  }
}

/** Waits until a Redis server answers PING on 127.0.0.1:port. */
async function redisReady(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
    const pong = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.on('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
      s.on('error', () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > end) throw new Error('redis-server did not answer PING');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a throwaway redis-server (127.0.0.1, a free port, a temp dir) with BullMQ's
 * durable setting: append-only file, fsync every second. Undefined if none is on PATH.
 */
async function startRedis(): Promise<{ port: number; stop: () => Promise<void> } | undefined> {
  if (spawnSync('redis-server', ['--version']).error) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--logfile', join(dir, 'redis.log')],
    { stdio: 'ignore' },
  );
  // If this process dies first, do not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await redisReady(port, child, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}

// HERALD_BENCH_PEERS=0: Herald's columns only (a quicker before/after of an engine change);
// HERALD_BENCH_POSTGRES=0: and PGlite's only.
const withPeers = process.env.HERALD_BENCH_PEERS !== '0';

async function main() {
  const results: Result[] = [];
  console.error('bench: PGlite...');
  results.push(await runBackend('pglite'));

  let serverUrl = process.env.HERALD_BENCH_DATABASE_URL;
  let stopDir: string | undefined;
  if (process.env.HERALD_BENCH_POSTGRES === '0') {
    console.error('bench: HERALD_BENCH_POSTGRES=0, PGlite only');
  } else if (!serverUrl) {
    try {
      const out = execFileSync('bash', [here('../scripts/temp-postgres.sh')], { env: { ...process.env, HERALD_PG_DURABLE: '1' } }).toString();
      serverUrl = /HERALD_PG_URL='([^']+)'/.exec(out)?.[1];
      stopDir = /HERALD_PG_DIR='([^']+)'/.exec(out)?.[1];
    } catch (err) {
      console.error(`bench: no PostgreSQL (${(err as Error).message.split('\n')[0]}); set HERALD_BENCH_DATABASE_URL`);
    }
  }
  const peers: PeerColumn[] = [];
  if (serverUrl) {
    console.error('bench: PostgreSQL...');
    const name = `herald_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    // graphile-worker on the same server, each configuration in a database of its own.
    const peerDbs: string[] = [];
    try {
      results.push(await runBackend('postgres', url.toString()));
      for (const [peer, title] of withPeers ? GRAPHILE : []) {
        console.error(`bench: ${title} on PostgreSQL...`);
        const peerDb = `herald_bench_${peer.replace('-', '_')}_${randomBytes(4).toString('hex')}`;
        peerDbs.push(peerDb);
        await admin.query(`create database ${peerDb}`);
        url.pathname = `/${peerDb}`;
        peers.push(await runPeer(peer, title, url.toString()));
        await admin.query(`drop database if exists ${peerDb} with (force)`);
      }
    } finally {
      for (const db of [name, ...peerDbs]) await admin.query(`drop database if exists ${db} with (force)`);
      await admin.end();
      if (stopDir) execFileSync('bash', [here('../scripts/temp-postgres-stop.sh'), stopDir]);
    }
  } else {
    for (const [, title] of withPeers ? GRAPHILE : []) peers.push({ title, missing: 'n/a (no PostgreSQL)' });
  }

  const redis = withPeers ? await startRedis() : undefined;
  if (!withPeers) {
    // not asked for
  } else if (redis) {
    console.error('bench: BullMQ on Redis...');
    try {
      peers.push(await runPeer('bullmq', 'BullMQ (Redis)', String(redis.port)));
    } finally {
      await redis.stop();
    }
  } else {
    console.error('bench: no redis-server on PATH; BullMQ not measured');
    peers.push({ title: 'BullMQ (Redis)', missing: 'n/a (install redis-server)' });
  }

  // Each row: its name, Herald's figure, the peers' figure (undefined: a row peers do not measure), Herald's target.
  const rows: [string, (r: Result) => string, ((r: PeerResult) => string) | undefined, string][] = [
    ['(a) raw limit: bare undici loop, req/s', (r) => r.raw.toFixed(0), (r) => r.raw.toFixed(0), ''],
    ['(b) sustained end-to-end deliveries/s', (r) => r.sustained.toFixed(0), (r) => r.sustained.toFixed(0), ''],
    ['(c) ratio b/a', (r) => r.ratio.toFixed(2), (r) => r.ratio.toFixed(2), 'PostgreSQL >= 0.2, PGlite >= 0.1'],
    ['(b2) drain of an accepted backlog (Herald 20,000, peers 10,000), deliveries/s', (r) => r.drain.toFixed(0), (r) => r.drain.toFixed(0), ''],
    ['(b2)/a', (r) => (r.drain / r.raw).toFixed(2), (r) => (r.drain / r.raw).toFixed(2), 'PostgreSQL >= 0.5, PGlite >= 0.3'],
    ['(b3) drain of 5,000 / of 50,000, deliveries/s', (r) => `${r.drainSmall.toFixed(0)} / ${r.drainLarge.toFixed(0)}`, undefined, ''],
    ['(b3) flatness: drain of 50,000 over drain of 5,000', (r) => (r.drainLarge / r.drainSmall).toFixed(2), undefined, '~1'],
    ['(d) p50 accepted-to-received at 500 ev/s, ms', (r) => r.p50.toFixed(1), (r) => r.p50.toFixed(1), ''],
    ['(d) p99 accepted-to-received at 500 ev/s, ms', (r) => r.p99.toFixed(1), (r) => r.p99.toFixed(1), '<= 20'],
    ['(e) fan-out: 1 event to 10,000 subscriptions, s', (r) => r.fanOutSeconds.toFixed(2), undefined, 'PostgreSQL <= 1.5, PGlite <= 3'],
    ['(g) HTTP publish, 32 clients, 1 destination: accepted/s', (r) => r.httpAccepted.toFixed(0), undefined, ''],
    ['(g) ... delivered/s (first request to last receipt)', (r) => r.httpDelivered.toFixed(0), undefined, ''],
    ['(g) delivered/s over raw', (r) => (r.httpDelivered / r.raw).toFixed(2), undefined, 'PostgreSQL >= 0.3, PGlite >= 0.15'],
    ['(h) SIGKILL of one of two workers: until all it held is delivered, s', (r) => (r.recoverySeconds === null ? 'n/a (one process)' : r.recoverySeconds.toFixed(2)), undefined, 'PostgreSQL <= 10'],
    ['(f) peak RSS of the Herald process, MiB', (r) => r.peakRssMiB.toFixed(0), (r) => r.peakRssMiB.toFixed(0), ''],
  ];
  const peerCell = (p: PeerColumn, f: ((r: PeerResult) => string) | undefined) => (!f ? '-' : 'missing' in p ? p.missing : f(p.result));
  // Herald's columns and target first, as before; the peers after them.
  const header = ['measure', ...results.map((r) => r.backend), 'target', ...peers.map((p) => p.title)];
  const table = [
    header,
    header.map(() => '---'),
    ...rows.map(([name, f, pf, target]) => [name, ...results.map(f), target, ...peers.map((p) => peerCell(p, pf))]),
  ];
  console.log(table.map((r) => `| ${r.join(' | ')} |`).join('\n'));
  console.log(`\n(b) moved ${results.map((r) => `${r.events} events on ${r.backend}`).join(', ')}; 64 concurrent sends, 16 receiver origins.`);
  console.log(`(g) published ${results.map((r) => `${r.httpEvents} events on ${r.backend}`).join(', ')} through POST /admin/organizations/{org}/events, in the bench process.`);
  const measured = peers.flatMap((p) => ('result' in p ? [p] : []));
  if (measured.length > 0) {
    console.log(
      `Peers (bench/peers.ts), one job per delivery, concurrency 64, the same receiver: ${measured
        .map((p) => `${p.title} drained ${p.result.drainEvents} and moved ${p.result.events} jobs`)
        .join(', ')}; (f) for a peer is its process (producers and worker), not PostgreSQL's or Redis's.`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
