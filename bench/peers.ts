// The queue a Node team would build instead of Herald, measured like Herald, in its own
// process, against the same receiver:
//   tsx bench/peers.ts graphile|graphile-batched <receiverPort> <postgresUrl>   graphile-worker on PostgreSQL
//   tsx bench/peers.ts bullmq <receiverPort> <redisPort>                        BullMQ on Redis (127.0.0.1)
// Optional trailing sizes [drain] [sustained] [seconds at 500/s] (10,000 20,000 10) to try it out.
// Prints one JSON line of results. Run through `npm run bench` (bench/run.ts), which
// creates the database or starts the Redis server, and relays the receiver's receipts.
//
// One job per delivery (one subscription per event, as in Herald's rows (b2) and (b)):
// the job carries the event (~1 KiB payload), and its task signs the same Pusher envelope
// as Herald, POSTs it with undici to one of the 16 receiver origins, and throws on a
// non-2xx answer so that the queue retries the job.
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Logger, run, runMigrations, type Runner } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';
import { CONCURRENCY, ORIGINS, PAYLOAD, now, originOf, quantile, rawLimit, waitForReceipts } from './common.js';
import { pusherEnvelope } from '../src/domain/delivery-request.js';
import { signRequest } from '../src/delivery/envelopes.js';
import { newSigningKey } from '../src/domain/subscriptions.js';

const [peer, portArg, target] = process.argv.slice(2);
const port = Number(portArg);
// Sizes: the same as Herald's on PostgreSQL; smaller ones only to try the script out.
const DRAIN = Number(process.argv[5] ?? 10_000);
const N = Number(process.argv[6] ?? 20_000);
const STEADY_SECONDS = Number(process.argv[7] ?? 10);

/** Receipts from the receiver process: webhook-id -> time received (ms, epoch). */
const received = new Map<string, number>();
process.on('message', (m: { received?: [string, number][] }) => {
  for (const [id, t] of m.received ?? []) if (!received.has(id)) received.set(id, t);
});
const progress = (what: string) => console.error(`bench ${peer}: ${what}`);

const waitFor = (ids: string[], timeoutMs: number) => waitForReceipts(received, ids, timeoutMs);

/** One delivery: an event of one of 16 tenants, each with one subscription on its own origin. */
interface Job {
  /** The message id, sent as webhook-id (the receiver reports it). */
  id: string;
  /** Tenant and origin index, 0..15. */
  o: number;
  /** When the producer created the event (ms, epoch): the envelope's timestamp. */
  at: number;
  payload: typeof PAYLOAD;
}

// Per subscription: a signing key and an organization, as Herald has.
const keys = Array.from({ length: ORIGINS }, () => newSigningKey());
const orgs = Array.from({ length: ORIGINS }, () => randomUUID());
// Like Herald's sender: at most 32 connections per origin, a 10 s timeout.
const agent = new Agent({ connections: 32, headersTimeout: 10_000, bodyTimeout: 10_000, connect: { timeout: 10_000 } });

/** The task both peers run: sign the Pusher envelope, POST it, throw on non-2xx (the job retries). */
async function deliver(job: Job): Promise<void> {
  const env = pusherEnvelope({ organizationUuid: orgs[job.o]!, eventName: 'PaymentCreated', messageId: job.id, payload: job.payload, timestamp: new Date(job.at) });
  const res = await request(`${originOf(port, job.o)}/hook`, { method: 'POST', body: env.body, headers: signRequest(env, keys[job.o]!, new Date()), dispatcher: agent });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${originOf(port, job.o)} answered ${res.statusCode}`);
}

interface Peer {
  /** Accept one event: returns once it is stored as the peer stores it (committed / acknowledged). */
  add(job: Job): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * graphile-worker on PostgreSQL: each event is added in its own transaction (BEGIN,
 * `graphile_worker.add_job`, COMMIT, as an application adds a job beside its own
 * writes), from a pool of 20 connections (Herald's). The runner: concurrency 64 and the
 * pool size the library's documentation recommends (concurrency + 2). `graphile`: the
 * library's defaults otherwise (each of the 64 slots fetches its own job, each job is
 * completed by its own statement, new jobs announced by LISTEN/NOTIFY).
 * `graphile-batched`: the batching its performance documentation describes, as Herald
 * batches claims and records: a local queue of concurrency + 1 jobs fetched (and locked)
 * at once, completions and failures batched (delay 0: those of one event-loop turn).
 */
async function graphile(url: string, batched: boolean): Promise<Peer> {
  const logger = new Logger(() => (level, message) => {
    if (String(level) === 'error' || String(level) === 'warning') console.error(`graphile-worker ${String(level)}: ${message}`);
  });
  await runMigrations({ connectionString: url, logger });
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  let runner: Runner | undefined;
  return {
    async add(job) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`select graphile_worker.add_job('deliver', $1::json)`, [JSON.stringify(job)]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async startWorker() {
      runner = await run({
        connectionString: url,
        concurrency: CONCURRENCY,
        maxPoolSize: CONCURRENCY + 2,
        ...(batched ? { preset: { worker: { localQueue: { size: CONCURRENCY + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } } : {}),
        noHandleSignals: true,
        logger,
        parsedCronItems: [],
        taskList: { deliver: (payload) => deliver(payload as Job) },
      });
    },
    async close() {
      await runner?.stop();
      await pool.end();
    },
  };
}

/**
 * BullMQ on Redis (the server started by bench/run.ts: appendonly yes, appendfsync
 * everysec). Queue.add per event (one Lua script, atomic); a Worker with concurrency 64.
 * Jobs retry (25 attempts, exponential backoff from 1 s, like graphile-worker's default
 * of 25); completed jobs are kept, BullMQ's default (Herald keeps its delivered rows too).
 */
async function bullmq(redisPort: number): Promise<Peer> {
  const connection = { host: '127.0.0.1', port: redisPort };
  const name = `deliveries-${randomUUID()}`;
  const queue = new Queue<Job>(name, { connection, defaultJobOptions: { attempts: 25, backoff: { type: 'exponential', delay: 1000 } } });
  await queue.waitUntilReady();
  let worker: Worker<Job> | undefined;
  return {
    async add(job) {
      await queue.add('deliver', job);
    },
    async startWorker() {
      worker = new Worker<Job>(name, (j) => deliver(j.data), { connection, concurrency: CONCURRENCY });
      worker.on('error', (err) => console.error(`bullmq worker: ${err.message}`));
      await worker.waitUntilReady();
    },
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

async function main() {
  if (peer !== 'graphile' && peer !== 'graphile-batched' && peer !== 'bullmq') {
    throw new Error(`usage: peers.ts graphile|graphile-batched|bullmq <receiverPort> <postgresUrl|redisPort> [drain] [sustained] [seconds]`);
  }
  const q = peer === 'bullmq' ? await bullmq(Number(target)) : await graphile(target!, peer === 'graphile-batched');

  progress('(a) raw limit');
  const raw = await rawLimit(port, 5);

  let seq = 0;
  const publish = async (i: number) => {
    const job: Job = { id: `${peer}-${seq++}`, o: i % ORIGINS, at: now(), payload: PAYLOAD };
    await q.add(job);
    return { id: job.id, at: now() };
  };

  // (b2) The queue alone: a backlog of accepted jobs, delivered by a worker started after.
  progress(`(b2) backlog drain of ${DRAIN}`);
  const backlog: string[] = [];
  const b0 = now();
  for (let i = 0; i < DRAIN; i++) backlog.push((await publish(i)).id);
  progress(`(b2) ${DRAIN} accepted one after the other in ${((now() - b0) / 1000).toFixed(1)} s`);
  const d0 = now();
  await q.startWorker();
  await waitFor(backlog, 300_000);
  const drain = backlog.length / ((Math.max(...backlog.map((id) => received.get(id)!)) - d0) / 1000);

  // (b) Sustained: N events from 16 concurrent producers, first accept to last receipt.
  progress(`(b2) ${drain.toFixed(0)}/s; (b) sustained, ${N} events`);
  const ids: string[] = [];
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        ids.push((await publish(i)).id);
      }
    }),
  );
  const acceptedIn = (now() - t0) / 1000;
  await waitFor(ids, 300_000);
  progress(`(b) ${N} accepted in ${acceptedIn.toFixed(1)} s, received ${((Math.max(...ids.map((id) => received.get(id)!)) - t0) / 1000).toFixed(1)} s after the first`);
  const sustained = N / ((Math.max(...ids.map((id) => received.get(id)!)) - t0) / 1000);

  // (d) Latency at a steady 500 events/s: 5 events every 10 ms.
  progress(`(b) ${sustained.toFixed(0)}/s; (d) latency at 500 ev/s`);
  const accepted = new Map<string, number>();
  const ticks = STEADY_SECONDS * 100;
  const steadyStart = now();
  for (let tick = 0; tick < ticks; tick++) {
    const due = steadyStart + tick * 10;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < 5; k++) {
      void publish(tick * 5 + k).then(({ id, at }) => accepted.set(id, at));
    }
  }
  while (accepted.size < ticks * 5) await new Promise((r) => setTimeout(r, 10));
  await waitFor([...accepted.keys()], 120_000);
  const latencies = [...accepted].map(([id, at]) => received.get(id)! - at);

  await q.close();
  await agent.close();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      backend: peer,
      raw,
      sustained,
      ratio: sustained / raw,
      drain,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      peakRssMiB,
      events: N,
      drainEvents: DRAIN,
    }),
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
