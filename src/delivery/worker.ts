import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { INITIAL_DESTINATION_LIMIT } from '../domain/destination-capacity.js';
import { NOT_SENT_PREFIX } from '../domain/delivery-request.js';
import { WAKE_CHANNEL } from '../domain/outbox.js';
import { SecretCorruptError, SecretUnavailableError, type SecretBox } from '../domain/sealed-secrets.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { claimDeliveries, type ClaimedDelivery } from '../store/sql/claim-deliveries.js';
import { recordSuccesses, type SuccessRecord } from '../store/sql/record-successes.js';
import { traceContextsOf } from '../store/sql/insert-event.js';
import { traceDelivery } from '../tracing.js';
import { cancelLeased, releaseLeases, returnUnstarted } from '../store/sql/leases.js';
import { growLimit, shrinkLimit } from '../store/sql/destination-limits.js';
import { decide } from './decide.js';
import { capacitySignal, DestinationLimits, type LimitChange } from './destination-limits.js';
import { DEAD_AFTER_BEATS, startHeartbeat } from './heartbeat.js';
import type { DeliveryMetrics } from './metrics.js';
import { prepare } from './prepare.js';
import { Batcher } from './batcher.js';
import { LocalQueue, verdict } from './local-queue.js';
import { recordFailureBatch, type FailedAttempt } from './record.js';
import type { Sender, SendResult } from './send.js';

export interface WorkerDeps {
  db: Db;
  clock: Clock;
  config: Pick<
    Config,
    | 'workerConcurrency'
    | 'deliveryTimeoutMs'
    | 'perDestinationConcurrency'
    | 'leaseSeconds'
    | 'pollIntervalMs'
    | 'heartbeatSeconds'
    | 'retrySchedule'
    | 'exhaustedSubscription'
    | 'attemptLogLevel'
  >;
  log: Logger;
  /** Opens the subscriptions' sealed signing keys. */
  secrets: SecretBox;
  sender: Sender;
  metrics?: DeliveryMetrics;
  /** Jitter source (tests make it deterministic). */
  random?: () => number;
  /** OpenTelemetry is on (runtime/tracing.ts): each attempt gets a span in its event's trace. */
  tracing?: boolean;
}

export interface Worker {
  readonly id: string;
  /** Looks for due work now (tests call it after moving a manual clock). */
  wake(): void;
  /** Resolves when nothing is in flight or waiting to be recorded. */
  idle(): Promise<void>;
  /** Stops claiming, lets in-flight attempts finish and be recorded. */
  stop(): Promise<void>;
}

// Results (successes, failures) are recorded in batches of up to this many, or after this long.
const RECORD_BATCH = 200;
const RECORD_FLUSH_MS = 10;
const CLAIM_COALESCE_MS = 5;
// How long (real time) an origin found at its limit across the fleet is left out of this
// worker's scans before it looks again.
const FLEET_SATURATED_MS = 100;
// A queued delivery starts only if an attempt's timeout plus a margin is left of its
// lease (the margin covers preparing it and recording its result); otherwise it is handed
// back (it could outlive its lease). The margin is at most this, and at most half of what
// the lease leaves beyond the timeout, so that a delivery just claimed always starts.
const LEASE_MARGIN_MS = 5_000;

/**
 * The delivery worker: claim -> queue -> prepare -> send -> decide -> record, for as many
 * deliveries at once as HERALD_WORKER_CONCURRENCY allows and at most each destination
 * origin's learned limit. Claims prefetch: up to as many deliveries again as the worker
 * sends at once wait in a local queue, so a freed slot starts the next one without a
 * round trip and claims are fewer and larger. New work wakes it at once (NOTIFY on
 * commit); a slow poll finds retries that came due and expired leases.
 */
export async function startWorker(deps: WorkerDeps): Promise<Worker> {
  const { db, clock, config, log, sender, metrics } = deps;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const inflightByOrigin = new Map<string, number>();
  // Stage 1b: claimed ahead of free slots (as many again as the worker sends at once);
  // claims refill it when it runs below half. Only while this worker is alone (as its last
  // claim saw the heartbeats): in a fleet, deliveries queued here would hold destination
  // limit that a worker with free slots could use, and the workers' claims overlap anyway.
  const queue = new LocalQueue<ClaimedDelivery>();
  const fullPrefetch = config.workerConcurrency;
  let prefetch = 0; // until a claim has seen whether other workers are alive
  const lowWater = Math.ceil(fullPrefetch / 2);
  // Deliveries handed back from the queue, being recorded as unstarted.
  let returning = 0;
  /** Each origin's deliveries this worker holds: in flight or queued (the claim counts both). */
  const heldByOrigin = (): Map<string, number> => {
    const held = new Map(inflightByOrigin);
    for (const [origin, n] of queue.origins()) held.set(origin, (held.get(origin) ?? 0) + n);
    return held;
  };
  // Each origin's limit, learned from its answers; it starts where the fixed limit was.
  const limits = new DestinationLimits({
    initial: Math.min(INITIAL_DESTINATION_LIMIT, config.perDestinationConcurrency),
    ceiling: config.perDestinationConcurrency,
  });
  metrics?.watchDestinations(() => limits.snapshot(clock.now().getTime()));
  // With tracing on: each claimed delivery's event traceparent, until its attempt starts.
  const traceContexts = new Map<number, string>();
  let inflight = 0;
  let stopping = false;
  let claiming = false;
  let idleWaiters: (() => void)[] = [];

  // Idle: nothing in flight, to record, being claimed, or due and waiting for a look
  // (a claim coming, or a recheck of an origin the other workers held).
  const isIdle = () =>
    inflight === 0 &&
    queue.length === 0 &&
    returning === 0 &&
    successes.waiting === 0 &&
    failures.waiting === 0 &&
    !claiming &&
    claimTimer === undefined &&
    recheckTimer === undefined;
  const checkIdle = () => {
    if (!isIdle()) return;
    void Promise.all([successes.settled(), failures.settled()]).then(() => {
      if (!isIdle()) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    });
  };

  // Stage 3, record: successes and failures each in batches, one statement per batch.
  // An ordered subscription's next message becomes its head once its head is recorded
  // (delivered or given up): then claim again.
  const afterRecord = (batch: { headMoves: boolean }[]) => {
    if (batch.some((r) => r.headMoves) && !stopping) claimSoon();
    checkIdle();
  };

  async function recordSuccessBatch(batch: SuccessRecord[]): Promise<void> {
    try {
      const r = await recordSuccesses(db, batch, clock.now(), id);
      metrics?.recovered.inc(r.recovered);
    } catch (err) {
      if (batch.length === 1) {
        // The delivery stays leased and is sent again when the lease runs out: at least once.
        log.error({ err, delivery: batch[0]!.deliveryId }, 'recording a successful delivery failed; it will be sent again');
        return;
      }
      // One bad row (or a deadlock victim) must not cost the whole batch: record one by one.
      log.warn({ err, count: batch.length }, 'recording a batch of successes failed; recording them one by one');
      for (const one of batch) await recordSuccessBatch([one]);
    }
  }

  async function recordFailedBatch(batch: FailedAttempt[]): Promise<void> {
    try {
      const outcome = await recordFailureBatch({ db, config, log }, batch, id, clock.now());
      for (const uuid of outcome.turnedFailing) log.warn({ subscriptionUuid: uuid }, 'subscription is FAILING');
      for (const r of outcome.retired) log.warn({ subscriptionUuid: r.subscriptionUuid, reason: r.reason }, 'subscription deleted');
    } catch (err) {
      if (batch.length === 1) {
        // Left leased: retried when the lease runs out (the attempt is not logged).
        log.error({ err, delivery: batch[0]!.record.deliveryId }, 'recording a failed attempt failed; it is retried when its lease runs out');
        return;
      }
      log.warn({ err, count: batch.length }, 'recording a batch of failures failed; recording them one by one');
      for (const one of batch) await recordFailedBatch([one]);
    }
  }

  type Recorded<T> = T & { headMoves: boolean };
  const successes = new Batcher<Recorded<{ record: SuccessRecord }>>({
    size: RECORD_BATCH,
    delayMs: RECORD_FLUSH_MS,
    flush: (batch) => recordSuccessBatch(batch.map((b) => b.record)),
    flushed: afterRecord,
  });
  const failures = new Batcher<Recorded<FailedAttempt>>({ size: RECORD_BATCH, delayMs: RECORD_FLUSH_MS, flush: recordFailedBatch, flushed: afterRecord });

  async function attempt(d: ClaimedDelivery): Promise<void> {
    const traceContext = traceContexts.get(d.id) ?? null;
    traceContexts.delete(d.id);
    if (d.subscription_deleted) {
      // Fanned out while the subscription was being deleted (possible on PostgreSQL).
      await cancelLeased(db, { deliveryId: d.id, workerId: id, attempt: d.attempts }, clock.now());
      return;
    }
    const startedAt = clock.now();
    let req: { url: string; body: string; headers: Record<string, string>; attemptId: string };
    let result: SendResult;
    const span = deps.tracing
      ? traceDelivery(traceContext, {
          eventName: d.event_name,
          messageId: d.message_id,
          subscriptionUuid: d.subscription_uuid,
          attempt: d.attempts,
          origin: d.destination_origin,
        })
      : undefined;
    try {
      req = prepare(d, startedAt, deps.secrets);
      // A receiver that traces joins the event's trace (not covered by the signature).
      if (span?.traceparent) req.headers.traceparent = span.traceparent;
      result = await sender.send(req.url, req.body, req.headers);
    } catch (err) {
      if (!(err instanceof SecretUnavailableError || err instanceof SecretCorruptError)) throw err;
      // Its signing key does not open (an encryption key missing from
      // HERALD_PREVIOUS_ENCRYPTION_KEYS): nothing is sent; a failure on the schedule, in
      // the attempt log and the contact's mails, instead of a silent retry every lease.
      log.error({ err, subscription: d.subscription_uuid }, 'cannot sign a delivery: its signing key does not open');
      req = { url: d.destination, body: '', headers: {}, attemptId: randomUUID() };
      result = { ok: false, errorClass: 'other', message: `${NOT_SENT_PREFIX}${err.message}`, latencyMs: 0 };
    }
    const now = clock.now();
    const change = limits.record(d.destination_origin, capacitySignal(result, now), startedAt.getTime(), now.getTime());
    if (change) void share(change);
    metrics?.attemptLatency.observe(result.latencyMs / 1000);
    // Stage 2, decide: every answer, success or failure, goes through the one rule.
    const decision = decide({ result, attemptsMade: d.attempts, schedule: config.retrySchedule, now, random: deps.random });
    const outcome = decision.kind === 'delivered' ? 'delivered' : decision.kind === 'retry' ? 'retry' : decision.reason;
    metrics?.attempts.inc({ outcome });
    span?.end({ status: result.status ?? null, errorClass: result.ok ? null : result.errorClass, outcome });
    // One line per attempt, for operators (HERALD_ATTEMPT_LOG_LEVEL): never a key, a header or a body.
    const attemptLevel = config.attemptLogLevel as 'info' | 'debug' | 'off';
    if (attemptLevel !== 'off' && log.isLevelEnabled(attemptLevel)) {
      log[attemptLevel](
        {
          delivery: d.id,
          attemptId: req.attemptId,
          subscription: d.subscription_uuid,
          event: d.event_name,
          origin: d.destination_origin,
          attempt: d.attempts,
          status: result.status ?? null,
          latencyMs: Math.round(result.latencyMs),
          errorClass: result.ok ? null : result.errorClass,
          outcome,
          ...(decision.kind === 'retry' ? { retryAt: decision.at.toISOString() } : {}),
        },
        'delivery attempt',
      );
    }
    if (decision.kind === 'delivered') {
      if (!result.ok) throw new Error('unreachable: only a 2xx delivers');
      successes.add({
        record: {
          deliveryId: d.id,
          attempt: d.attempts,
          status: result.status,
          startedAt,
          latencyMs: result.latencyMs,
          attemptId: req.attemptId,
          excerpt: result.excerpt,
        },
        headMoves: d.ordered,
      });
      return;
    }
    if (result.ok) throw new Error('unreachable: a 2xx is delivered');
    log.debug({ delivery: d.id, attempt: d.attempts, errorClass: result.errorClass, status: result.status, decision }, 'attempt failed');
    failures.add({
      headMoves: d.ordered && decision.kind === 'give_up',
      record: {
        deliveryId: d.id,
        attempt: d.attempts,
        attemptId: req.attemptId,
        startedAt,
        latencyMs: result.latencyMs,
        statusCode: result.status ?? null,
        errorClass: result.errorClass,
        errorMessage: result.message,
        excerpt: result.excerpt ?? null,
        retryAt: decision.kind === 'retry' ? decision.at : null,
      },
      subscriptionId: d.subscription_id,
      decision,
      facts: { errorClass: result.errorClass, status: result.status ?? null, message: result.message, at: now },
    });
  }

  /** The traced events' traceparents of these deliveries (one read; a failure only loses the link). */
  async function learnTraceContexts(rows: ClaimedDelivery[]): Promise<void> {
    try {
      const found = await traceContextsOf(db, rows.map((d) => ({ organizationUuid: d.organization_uuid, messageId: d.message_id })));
      for (const d of rows) {
        const tc = found.get(`${d.organization_uuid}/${d.message_id}`);
        if (tc) traceContexts.set(d.id, tc);
      }
    } catch (err) {
      log.warn({ err }, 'reading the trace context of claimed deliveries failed; their spans start new traces');
    }
  }

  /** Applies a move of an origin's limit to the shared row, and learns the row as it is after. */
  async function share(change: LimitChange): Promise<void> {
    try {
      const now = clock.now();
      const row =
        change.kind === 'grow'
          ? await growLimit(db, { origin: change.origin, from: change.from, ceiling: limits.ceiling, now })
          : await shrinkLimit(db, {
              origin: change.origin,
              initial: limits.initialLimit,
              now,
              sentAt: new Date(change.sentAt),
              pauseUntil: change.pauseUntil !== undefined ? new Date(change.pauseUntil) : null,
            });
      if (row) limits.learn(change.origin, row, now.getTime());
      if (change.kind === 'grow' || change.pauseUntil === undefined) return;
      // Claim again when the pause ends (the poll would find it too, later).
      const wait = change.pauseUntil - clock.now().getTime();
      if (wait > 0 && wait < 2 ** 31 - 1) setTimeout(wake, wait + 1).unref();
    } catch (err) {
      log.warn({ err, origin: change.origin, change: change.kind }, 'sharing a destination limit failed; the next answers will try again');
    }
  }

  function start(d: ClaimedDelivery): void {
    const origin = d.destination_origin;
    inflight++;
    inflightByOrigin.set(origin, (inflightByOrigin.get(origin) ?? 0) + 1);
    void attempt(d)
      .catch((err: unknown) => log.error({ err, delivery: d.id }, 'delivery attempt crashed; it is retried when its lease runs out'))
      .finally(() => {
        inflight--;
        const n = (inflightByOrigin.get(origin) ?? 1) - 1;
        if (n === 0) inflightByOrigin.delete(origin);
        else inflightByOrigin.set(origin, n);
        // A freed slot: the next queued delivery starts; claim more when the queue runs
        // low (or cannot fill the slot) and the last claim suggested there may be more.
        pump();
        if (maybeMore && (queue.length < lowWater || inflight < config.workerConcurrency)) claimSoon();
        checkIdle();
      });
  }

  const attemptMs = config.deliveryTimeoutMs + Math.min(LEASE_MARGIN_MS, (config.leaseSeconds * 1000 - config.deliveryTimeoutMs) / 2);

  /** Fills free slots from the queue, in claim order (stage 1b's rules: local-queue.ts); returns how many it handed back. */
  function pump(): number {
    if (stopping) return 0;
    const handBack: ClaimedDelivery[] = [];
    while (inflight < config.workerConcurrency && queue.length > 0) {
      const t = clock.now().getTime();
      const next = queue.take(({ delivery: d, leaseUntil }) =>
        verdict(leaseUntil, {
          now: t,
          attemptMs,
          paused: limits.isPaused(d.destination_origin, t),
          inflight: inflightByOrigin.get(d.destination_origin) ?? 0,
          limit: limits.limitOf(d.destination_origin),
        }),
      );
      handBack.push(...next.returned);
      if (!next.start) break;
      start(next.start);
    }
    if (handBack.length > 0) void giveBack(handBack);
    return handBack.length;
  }

  /** Hands queued deliveries back to the database unstarted (their attempt not counted). */
  async function giveBack(deliveries: ClaimedDelivery[]): Promise<void> {
    for (const d of deliveries) traceContexts.delete(d.id);
    returning += deliveries.length;
    try {
      await returnUnstarted(db, deliveries.map((d) => ({ deliveryId: d.id, attempt: d.attempts })), id, clock.now());
    } catch (err) {
      // Still leased to this worker: due again when the lease runs out (or at its heartbeat's end).
      log.warn({ err, count: deliveries.length }, 'handing back queued deliveries failed; they are retried when their leases run out');
    } finally {
      returning -= deliveries.length;
      checkIdle();
    }
  }

  // `wanted`: a claim was asked for while one ran, so run again. `maybeMore`: due work
  // may exist that the last claim did not take (it returned rows, or deliveries are in
  // flight whose destination cap may have held rows back), so a freed slot claims.
  // (Claiming on completion only after a claim had filled every free slot stalled a
  // busy destination at 8 deliveries per poll tick.)
  let wanted = false;
  let maybeMore = true;
  // Origins the last claims found at their limit across the fleet, until when (ms).
  const fleetSaturated = new Map<string, number>();

  let recheckTimer: NodeJS.Timeout | undefined;

  /** Origins not worth scanning: at their limit in this worker (`held`) or the fleet, or paused. */
  function skipOrigins(now: number, held: Map<string, number>): string[] {
    const skip = new Set(limits.paused(now));
    for (const [origin, n] of held) if (n >= limits.limitOf(origin)) skip.add(origin);
    const wallNow = performance.now(); // a moment of real time, whatever the clock says
    for (const [origin, until] of fleetSaturated) {
      if (until > wallNow) skip.add(origin);
      else fleetSaturated.delete(origin);
    }
    return [...skip];
  }

  async function claim(): Promise<void> {
    if (stopping) return;
    if (claiming) {
      wanted = true;
      return;
    }
    claiming = true;
    try {
      for (;;) {
        wanted = false;
        // Free slots, and room in the queue behind them.
        const want = config.workerConcurrency + prefetch - inflight - queue.length;
        if (want <= 0) {
          maybeMore = true; // resume when the queue runs low
          break;
        }
        const now = clock.now();
        const t = now.getTime();
        const leaseUntil = t + config.leaseSeconds * 1000;
        const own = heldByOrigin();
        const { deliveries: rows, origins, otherWorkers } = await claimDeliveries(db, {
          now,
          leaseUntil: new Date(leaseUntil),
          limit: want,
          scan: Math.max(want * 2, 64),
          skipOrigins: skipOrigins(t, own),
          initialLimit: limits.initialLimit,
          ceiling: limits.ceiling,
          own,
          workerId: id,
          aliveSeconds: config.heartbeatSeconds * DEAD_AFTER_BEATS,
        });
        prefetch = otherWorkers === 0 ? fullPrefetch : 0;
        if (deps.tracing && rows.length > 0) await learnTraceContexts(rows);
        const taken = new Map<string, number>();
        for (const d of rows) taken.set(d.destination_origin, (taken.get(d.destination_origin) ?? 0) + 1);
        for (const { origin, scanned, others, shared } of origins) {
          limits.learn(origin, shared, t);
          // Due rows left behind because the other workers hold the rest of the origin's
          // limit: not scanned again for a moment (fairness to the other origins), then
          // looked at again. (Not for rows this worker's own deliveries held back: those
          // free up with its own completions.)
          if (rows.length < want && others > 0 && scanned > (taken.get(origin) ?? 0)) {
            fleetSaturated.set(origin, performance.now() + FLEET_SATURATED_MS);
            recheckTimer ??= setTimeout(() => {
              recheckTimer = undefined;
              wake();
            }, FLEET_SATURATED_MS);
          }
        }
        queue.push(rows, leaseUntil);
        // (A claim whose rows all went straight back does not claim again at once.)
        const handedBack = pump();
        maybeMore = rows.length > 0 || inflight > 0 || queue.length > 0;
        if (stopping || (rows.length === 0 && !wanted) || (rows.length > 0 && handedBack >= rows.length)) break;
      }
    } catch (err) {
      log.error({ err }, 'claiming deliveries failed; retrying on the next poll');
    } finally {
      claiming = false;
      checkIdle();
    }
  }

  // Completions come one by one; claiming on each made ~2 claims per delivery, each
  // returning about one row (PGlite: 4,000 claims of 1.9 ms for 2,000 deliveries). A
  // freed slot instead schedules one claim CLAIM_COALESCE_MS later, which takes every
  // slot freed meanwhile. New work (NOTIFY, poll) still claims at once.
  let claimTimer: NodeJS.Timeout | undefined;
  const claimSoon = () => {
    claimTimer ??= setTimeout(() => {
      claimTimer = undefined;
      void claim();
      checkIdle();
    }, CLAIM_COALESCE_MS);
  };

  const wake = () => {
    maybeMore = true;
    void claim();
  };
  if (db.kind === 'pglite') {
    // PGlite serves one process: leases still held at start belong to a process that
    // died (kill -9). Release them now instead of waiting for them to run out.
    const released = await releaseLeases(db, clock.now());
    if (released > 0) log.warn({ released }, 'released the leases of a previous process');
  }
  // Several processes share PostgreSQL: beat, and free the deliveries of dead workers.
  const heartbeat =
    db.kind === 'postgres'
      ? await startHeartbeat({ db, clock, log, workerId: id, intervalSeconds: config.heartbeatSeconds, onReleased: wake })
      : undefined;
  const unlisten = await db.listen(WAKE_CHANNEL, wake);
  const poll = setInterval(wake, config.pollIntervalMs);
  poll.unref();
  wake();
  log.info({ workerId: id, concurrency: config.workerConcurrency }, 'delivery worker started');

  return {
    id,
    wake,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      }),
    async stop() {
      stopping = true;
      clearInterval(poll);
      if (claimTimer) clearTimeout(claimTimer);
      claimTimer = undefined;
      if (recheckTimer) clearTimeout(recheckTimer);
      recheckTimer = undefined;
      await unlisten();
      while (claiming) await new Promise((r) => setTimeout(r, 10));
      // What waited in the queue goes back unstarted, for the other workers (or the next start).
      await giveBack(queue.clear());
      while (inflight > 0 || returning > 0) await new Promise((r) => setTimeout(r, 10));
      await Promise.all([successes.flush(), failures.flush()]);
      // Last: until its deliveries are recorded, the others must not take it for dead.
      await heartbeat?.stop({ clean: inflight === 0 && successes.waiting === 0 && failures.waiting === 0 });
      log.info({ workerId: id }, 'delivery worker stopped');
    },
  };
}
