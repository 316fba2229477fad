// One backend's benchmark run, in its own process (so peak RSS is this backend's):
//   tsx bench/scenario.ts pglite|postgres <receiverPort> [postgresUrl]
// Prints one JSON line of results. Run through `npm run bench` (bench/run.ts).
import { randomBytes } from 'node:crypto';
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
  const config = loadConfig({}, {
    encryptionKey: randomBytes(32),
    allowInsecureDestinations: true,
    workerConcurrency: CONCURRENCY,
    pollIntervalMs: 1000,
    logLevel: 'warn',
    dbPoolSize: 20,
    // Its health listener on a free port: a fixed 9091 collides with other Herald processes on the machine.
    workerHealthPort: 0,
  });
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

  // (b2) The engine alone: a backlog of accepted events, delivered by a worker started after.
  progress('(b2) backlog drain');
  const backlog: string[] = [];
  for (let i = 0; i < 10_000; i++) backlog.push((await publish(orgs[i % ORIGINS]!)).id);
  const d0 = now();
  const herald = await startHerald({ config, roles: { api: false, worker: true }, log, db });
  await waitFor(backlog, 300_000);
  const drain = backlog.length / ((Math.max(...backlog.map((id) => received.get(id)!)) - d0) / 1000);

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

  await herald.close();
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
      httpAccepted,
      httpDelivered,
      httpEvents: G,
      peakRssMiB,
      events: N,
    }),
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
