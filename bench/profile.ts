// Where the database time of a delivery load goes, statement by statement:
//   npx tsx bench/profile.ts pglite [events]
//   npx tsx bench/profile.ts postgres <postgres-url-of-an-empty-database> [events]
// HERALD_PROFILE_BACKLOG=1: publish everything first, then start the worker (the
// engine's drain rate, without producers competing).
// Publishes `events` events (16 concurrent producers, one subscription per origin on
// 16 loopback origins) while an in-process worker delivers them to a local receiver,
// then prints the rate and, per SQL statement, how often it ran and its total time.
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../src/domain/sealed-secrets.js';
import { createServer, type Server } from 'node:http';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createOrganization } from '../src/domain/organizations.js';
import { recordEvent } from '../src/domain/outbox.js';
import { newSigningKey } from '../src/domain/subscriptions.js';
import { makeLogger } from '../src/logger.js';
import { startHerald } from '../src/runtime/start-herald.js';
import type { Db, Queryable } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { makePgliteDb } from '../src/store/pglite-db.js';
import { makePostgresDb } from '../src/store/postgres-db.js';

const [backend, a, b] = process.argv.slice(2);
const url = backend === 'postgres' ? a! : undefined;
const N = Number((backend === 'postgres' ? b : a) ?? 5000);
const ORIGINS = 16;

const stats = new Map<string, { n: number; ms: number }>();
function instrument<T extends Queryable>(q: T): T {
  const query = q.query.bind(q);
  q.query = (async (sql: string, params?: unknown[]) => {
    const t = performance.now();
    try {
      return await query(sql, params);
    } finally {
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 48);
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += performance.now() - t;
      stats.set(key, s);
    }
  }) as T['query'];
  return q;
}

async function main() {
  let received = 0;
  const servers: Server[] = [];
  const port = await new Promise<number>((resolve) => {
    const s = createServer((req, res) => req.resume().on('end', () => (received++, res.end('ok'))));
    servers.push(s);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });
  for (let i = 2; i <= ORIGINS; i++) {
    const s = createServer(servers[0]!.listeners('request')[0] as never);
    servers.push(s);
    await new Promise<void>((r) => s.listen(port, `127.0.0.${i}`, () => r()));
  }
  const db: Db = backend === 'postgres' ? await makePostgresDb(url!, { poolSize: 20 }) : await makePgliteDb(null);
  await migrate(db);
  instrument(db);
  const transaction = db.transaction.bind(db);
  db.transaction = (fn) => transaction((tx) => fn(instrument(tx)));

  const config = loadConfig({}, { encryptionKey: randomBytes(32), allowInsecureDestinations: true, logLevel: 'warn' });
  const log = makeLogger({ logLevel: 'warn', logFormat: 'json' });
  const orgs: string[] = [];
  for (let i = 0; i < ORIGINS; i++) {
    const org = (await createOrganization({ db, clock: systemClock, config, log, secrets: new SecretBox(config.encryptionKey!) }, { name: `p${i}` })).organizationUuid;
    orgs.push(org);
    await db.query(
      `insert into subscriptions (uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                                  status, signing_key, created_by, livemode, created_at, updated_at)
       values (gen_random_uuid(), $1, 'WEBHOOK', '{}', $2, 'a@example.com', 'ACTIVE', $3, 'x', true, now(), now())`,
      [org, `http://127.0.0.${i + 1}:${port}/hook`, newSigningKey()],
    );
  }
  stats.clear();
  const backlog = process.env.HERALD_PROFILE_BACKLOG === '1';
  let herald = backlog ? undefined : await startHerald({ config, roles: { api: false, worker: true }, log, db });
  let t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        await db.transaction((tx) =>
          recordEvent(tx, systemClock, { organizationUuid: orgs[i % ORIGINS]!, eventName: 'PaymentCreated', payload: { p: 'x'.repeat(1000) }, livemode: true, messageId: `m${i}` }),
        );
      }
    }),
  );
  const published = performance.now() - t0;
  if (backlog) {
    stats.clear();
    t0 = performance.now();
    herald = await startHerald({ config, roles: { api: false, worker: true }, log, db });
  }
  while (received < N) await new Promise((r) => setTimeout(r, 5));
  const total = performance.now() - t0;
  await herald!.close();
  console.log(`${backend}: ${N} events published in ${published.toFixed(0)} ms, all delivered in ${total.toFixed(0)} ms: ${(N / (total / 1000)).toFixed(0)}/s`);
  console.log('statement'.padEnd(50), 'count'.padStart(7), 'total ms'.padStart(9), 'ms each'.padStart(8));
  for (const [sql, s] of [...stats].sort((x, y) => y[1].ms - x[1].ms)) {
    console.log(sql.padEnd(50), String(s.n).padStart(7), s.ms.toFixed(0).padStart(9), (s.ms / s.n).toFixed(2).padStart(8));
  }
  await db.close();
  for (const s of servers) s.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
