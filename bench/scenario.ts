// One backend's benchmark run, in its own process (so peak RSS is this backend's):
//   tsx bench/scenario.ts pglite|postgres <receiverPort> [postgresUrl]
// Prints one JSON line of results. Run through `npm run bench` (bench/run.ts).
// (With `worker` as its first argument it is the worker that row (h) kills: see below.)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SecretBox } from '../src/domain/sealed-secrets.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { CONCURRENCY, ORIGINS, PAYLOAD, now, originOf, quantile, rawLimit, waitForReceipts } from './common.js';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { makeLogger } from '../src/logger.js';
import { pusherMessageId } from '../src/domain/ids.js';
import { recordEvent } from '../src/domain/outbox.js';
import { createOrganization } from '../src/domain/organizations.js';
import { newSigningKey } from '../src/domain/subscriptions.js';
import { startHerald } from '../src/runtime/start-herald.js';
import type { Db } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { makePgliteDb } from '../src/store/pglite-db.js';
import { makePostgresDb } from '../src/store/postgres-db.js';

const [backend, portArg, pgUrl] = process.argv.slice(2);
const port = Number(portArg);
const origin = (i: number) => originOf(port, i);
const BENCH_ADMIN = `bench-admin-${randomBytes(16).toString('hex')}`;

/** Receipts from the receiver process: webhook-id -> time received (ms, epoch). */
const received = new Map<string, number>();
/** Receipts of the fan-out event (one message id, 10,000 subscribers). */
let fanReceived = 0;
/** Herald's message id of the fan-out event, the v5 UUID named by 'fan'. */
const FAN_ID = pusherMessageId('fan');
process.on('message', (m: { received?: [string, number][] }) => {
  for (const [id, t] of m.received ?? []) {
    if (id === FAN_ID) fanReceived++;
    else if (!received.has(id)) received.set(id, t);
  }
});
const progress = (what: string) => console.error(`bench ${backend}: ${what}`);

const waitFor = (ids: string[], timeoutMs: number) => waitForReceipts(received, ids, timeoutMs);

/** The benchmark's configuration; row (h)'s child worker uses the same, with the same encryption key. */
function benchConfig(encryptionKey: Buffer) {
  return loadConfig({}, {
    encryptionKey,
    allowInsecureDestinations: true,
    workerConcurrency: CONCURRENCY,
    pollIntervalMs: 1000,
    logLevel: 'warn',
    dbPoolSize: 20,
    // Its health listener on a free port: a fixed 9091 collides with other Herald processes on the machine.
    workerHealthPort: 0,
  });
}

/**
 * Row (h)'s second worker: a Herald worker process on the same PostgreSQL, which tells
 * its parent its worker id and then works until it is killed.
 */
async function workerChild(url: string): Promise<void> {
  const db = await makePostgresDb(url, { poolSize: 20 });
  const config = benchConfig(Buffer.from(process.env.HERALD_BENCH_KEY!, 'hex'));
  const log = makeLogger({ logLevel: 'warn', logFormat: 'json' });
  const herald = await startHerald({ config, roles: { api: false, worker: true }, log, db });
  process.send!({ workerId: herald.worker!.id });
}

async function main() {
  let db: Db;
  let cleanup: () => Promise<void>;
  if (backend === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
    db = await makePgliteDb(dir);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    db = await makePostgresDb(pgUrl!, { poolSize: 20 });
    cleanup = async () => {};
  }
  await migrate(db);
  const encryptionKey = randomBytes(32);
  const config = benchConfig(encryptionKey);
  const log = makeLogger({ logLevel: 'warn', logFormat: 'json' });
  const ctx = { db, clock: systemClock, config, log, secrets: new SecretBox(config.encryptionKey!) };

  // 16 organizations, each with one subscription on its own origin: many tenants.
  const orgs: string[] = [];
  for (let i = 0; i < ORIGINS; i++) {
    const org = await createOrganization(ctx, { name: `bench ${i}` });
    orgs.push(org.organizationUuid);
    await db.query(
      `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                                  status, signing_key, created_by, livemode, created_at, updated_at)
       values (gen_random_uuid(), $1, 'WEBHOOK', '{PaymentCreated}', $2, 'bench@example.com', 'ACTIVE', $3, 'bench', true, now(), now())`,
      [org.organizationUuid, `${origin(i)}/hook`, newSigningKey()],
    );
  }

  progress('(a) raw limit');
  const raw = await rawLimit(port, 5);

  let seq = 0;
  const publish = async (org: string) => {
    // The receiver reports webhook-ids: Herald's message id, the v5 UUID named by ours.
    const r = await db.transaction((tx) =>
      recordEvent(tx, systemClock, { organizationUuid: org, eventName: 'PaymentCreated', payload: PAYLOAD, livemode: true, messageId: `e-${seq++}` }),
    );
    return { id: r.messageId, at: now() };
  };

  /**
   * A backlog of `count` accepted events over the 16 organizations, 500 to a transaction
   * (how they were accepted does not matter to a drain; one transaction each made the
   * 50,000 backlog cost a minute).
   */
  const acceptBacklog = async (count: number, tag: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 500) {
      await db.transaction(async (tx) => {
        for (let k = i; k < Math.min(count, i + 500); k++) {
          const r = await recordEvent(tx, systemClock, { organizationUuid: orgs[k % ORIGINS]!, eventName: 'PaymentCreated', payload: PAYLOAD, livemode: true, messageId: `${tag}-${k}` });
          ids.push(r.messageId);
        }
      });
    }
    return ids;
  };
  const startWorkerProcess = () => startHerald({ config, roles: { api: false, worker: true }, log, db });
  /** (b2) The engine alone: a backlog of accepted events, delivered by a worker started after; deliveries/s. */
  const drainRate = async (count: number): Promise<number> => {
    progress(`(b2) drain of ${count}`);
    const backlog = await acceptBacklog(count, `drain${count}`);
    const d0 = now();
    const worker = await startWorkerProcess();
    await waitFor(backlog, 600_000);
    const last = backlog.reduce((m, id) => Math.max(m, received.get(id)!), 0);
    const rate = backlog.length / ((last - d0) / 1000);
    await worker.close();
    return rate;
  };
  // Smallest first: each drain leaves its delivered rows behind, so the larger ones also
  // run beside more history.
  const drainSmall = await drainRate(5_000);
  const drain = await drainRate(20_000);
  const drainLarge = await drainRate(50_000);
  const herald = await startWorkerProcess();

  progress('(b) sustained');
  // (b) Sustained: N events from 16 concurrent producers, first accept to last receipt.
  const N = backend === 'pglite' ? 10_000 : 20_000;
  const ids: string[] = [];
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        ids.push((await publish(orgs[i % ORIGINS]!)).id);
      }
    }),
  );
  await waitFor(ids, 300_000);
  const lastReceived = Math.max(...ids.map((id) => received.get(id)!));
  const sustained = N / ((lastReceived - t0) / 1000);

  progress(`(b) ${sustained.toFixed(0)}/s; (d) latency at 500 ev/s`);
  // (d) Latency at a steady 500 events/s for 10 s: 5 events every 10 ms.
  const accepted = new Map<string, number>();
  const steadyStart = now();
  for (let tick = 0; tick < 1000; tick++) {
    const due = steadyStart + tick * 10;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < 5; k++) {
      void publish(orgs[(tick * 5 + k) % ORIGINS]!).then(({ id, at }) => accepted.set(id, at));
    }
  }
  while (accepted.size < 5000) await new Promise((r) => setTimeout(r, 10));
  await waitFor([...accepted.keys()], 120_000);
  const latencies = [...accepted].map(([id, at]) => received.get(id)! - at);

  // (e) Fan-out: one event to 10,000 subscriptions (on the 16 origins) until all are received.
  const fanOrg = (await createOrganization(ctx, { name: 'fan-out' })).organizationUuid;
  await db.query(
    `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                                status, signing_key, created_by, livemode, created_at, updated_at)
     select gen_random_uuid(), $1, 'WEBHOOK', '{InvoiceCreated}',
            'http://127.0.0.' || (g % 16 + 1) || ':' || $2 || '/hook?s=' || g, 'bench@example.com', 'ACTIVE',
            md5(random()::text) || md5(random()::text), 'bench', true, now(), now()
       from generate_series(1, 10000) g`,
    [fanOrg, port],
  );
  progress('(e) fan-out');
  const f0 = now();
  await db.transaction((tx) => recordEvent(tx, systemClock, { organizationUuid: fanOrg, eventName: 'InvoiceCreated', payload: PAYLOAD, livemode: true, messageId: 'fan' }));
  while (fanReceived < 10_000) {
    if (now() - f0 > 120_000) throw new Error(`fan-out: ${fanReceived}/10000 received`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const fanOutSeconds = (now() - f0) / 1000;

  // (g) Through the HTTP API, to one subscription: 32 publishers call the publish
  // endpoint (validation, auth, one transaction each), one destination (so the
  // per-destination limit binds), first request to last receipt.
  progress('(g) HTTP publish to one destination');
  const api = await startHerald({ config: { ...config, port: 0, adminToken: BENCH_ADMIN }, roles: { api: true, worker: false }, log, db });
  const one = orgs[0]!;
  const httpAgent = new Agent({ connections: 32 });
  const G = backend === 'pglite' ? 3000 : 6000;
  const httpIds: string[] = [];
  let gNext = 0;
  const g0 = now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (gNext < G) {
        const i = gNext++;
        const res = await request(`${api.url}/admin/organizations/${one}/events`, {
          method: 'POST',
          dispatcher: httpAgent,
          headers: { authorization: `Bearer ${BENCH_ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ eventName: 'PaymentCreated', messageId: `g-${i}`, payload: { id: `g-${i}`, amount: 100, ...PAYLOAD } }),
        });
        const body = (await res.body.json()) as { messageId: string };
        if (res.statusCode !== 202) throw new Error(`publish answered ${res.statusCode}: ${JSON.stringify(body)}`);
        httpIds.push(body.messageId);
      }
    }),
  );
  const httpAccepted = G / ((now() - g0) / 1000);
  await waitFor(httpIds, 300_000);
  const httpDelivered = G / ((Math.max(...httpIds.map((id) => received.get(id)!)) - g0) / 1000);
  await httpAgent.close();
  await api.close();

  async function killRecovery(): Promise<number> {
    progress('(h) SIGKILL recovery');
    const ids = await acceptBacklog(10_000, 'h');
    const child = fork(fileURLToPath(import.meta.url), ['worker', '0', pgUrl!], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, HERALD_BENCH_KEY: encryptionKey.toString('hex') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    const childId = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: { workerId?: string }) => m.workerId && resolve(m.workerId));
      child.on('exit', (code) => reject(new Error(`the worker to kill exited first (${code})`)));
    });
    const receivedOf = () => ids.filter((id) => received.has(id)).length;
    while (receivedOf() < 1_000) await new Promise((r) => setTimeout(r, 5));
    const survivor = await startWorkerProcess();
    while (receivedOf() < 3_000) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    const killedAt = now();
    await exited;
    const held = (await db.query<{ id: string }>(`select id from deliveries where leased_by = $1 and state = 'pending'`, [childId])).rows.map((r) => r.id);
    if (held.length === 0) throw new Error('(h): the killed worker held no deliveries; kill earlier');
    for (;;) {
      const left = await db.query<{ n: number }>(`select count(*)::int as n from deliveries where id = any($1::bigint[]) and state <> 'delivered'`, [held]);
      if (left.rows[0]!.n === 0) break;
      if (now() - killedAt > 300_000) throw new Error(`(h): ${left.rows[0]!.n} of the killed worker's deliveries still not delivered`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (now() - killedAt) / 1000;
    progress(`(h) the killed worker held ${held.length} deliveries, all delivered ${seconds.toFixed(2)} s after the kill`);
    await waitFor(ids, 300_000); // and nothing was lost
    await survivor.close();
    return seconds;
  }

  await herald.close();

  // (h) PostgreSQL: a worker process is SIGKILLed while it and this process's worker drain
  // a backlog together; seconds from the kill until every delivery it held is delivered
  // by the survivor (its heartbeat stops; the others release its deliveries after three
  // missed beats instead of at its leases' end). PGlite serves one process: a killed
  // Herald releases its leases when it starts again, so the row does not apply.
  let recoverySeconds: number | null = null;
  if (backend === 'postgres') recoverySeconds = await killRecovery();

  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  await db.close();
  await cleanup();
  console.log(
    JSON.stringify({
      backend,
      raw,
      sustained,
      ratio: sustained / raw,
      drain,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      fanOutSeconds,
      recoverySeconds,
      drainSmall,
      drainLarge,
      httpAccepted,
      httpDelivered,
      httpEvents: G,
      peakRssMiB,
      events: N,
    }),
  );
  process.exit(0);
}

(backend === 'worker' ? workerChild(pgUrl!) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
