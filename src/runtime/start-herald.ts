import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { buildApp } from '../api/app.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { openDb } from '../store/open-db.js';
import { startMailSender, type MailSender } from '../delivery/mail-sender.js';
import { makeMailer } from '../delivery/mailer.js';
import { buildOpsApp } from '../api/ops-app.js';
import { makeDeliveryMetrics, makeRetentionMetrics, registerBacklogGauges } from '../delivery/metrics.js';
import { makeDestinationProbe } from '../delivery/probe.js';
import { makeSender } from '../delivery/send.js';
import { routeTransports, startListenRelay } from '../delivery/listen-relay.js';
import { startWorker, type Worker } from '../delivery/worker.js';
import { startRetentionSweeper, type RetentionSweeper } from '../delivery/retention.js';
import { resolveAdminToken } from './admin-token.js';
import { resolveSecretBox } from './encryption-key.js';
import { resealSecrets } from '../domain/reseal-secrets.js';
import { VERSION } from './version.js';

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface RunningHerald {
  db: Db;
  app?: FastifyInstance;
  /** http://host:port the API listens on, when the api role runs. */
  url?: string;
  /** http://host:port of the health and metrics listener of a worker-only process. */
  opsUrl?: string;
  worker?: Worker;
  mailSender?: MailSender;
  /** The worker role's retention sweeper (old finished messages). */
  retention?: RetentionSweeper;
  /** Stops accepting, lets in-flight work finish within the shutdown bound, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  roles: Roles;
  log: Logger;
  clock?: Clock;
  /** Use this database instead of opening the configured one (tests); it is not closed by close(). */
  db?: Db;
  /** Jitter source for retry delays (tests make it deterministic). */
  random?: () => number;
  /** OpenTelemetry tracing was started (runtime/tracing.ts): delivery attempts get spans. */
  tracing?: boolean;
}

/** Starts Herald's roles in this process: opens and migrates the database, then API and/or worker. */
export async function startHerald(opts: StartOptions): Promise<RunningHerald> {
  const { config, roles, log } = opts;
  const clock = opts.clock ?? systemClock;
  // Before the database opens: a missing key on PostgreSQL is a configuration error.
  const sealing = resolveSecretBox(config);
  const secrets = sealing.box;
  const db = opts.db ?? (await openDb(config, (err) => log.warn({ err }, 'database connection error')));
  const ownsDb = !opts.db;
  const closers: (() => Promise<void>)[] = [];

  try {
    const applied = await migrate(db);
    log.info({ database: db.kind, applied }, applied.length ? 'migrations applied' : 'database schema up to date');
    if (sealing.generatedAt) {
      log.warn({ path: sealing.generatedAt }, 'encryption key for secrets at rest generated; back it up with the data dir');
    }
    // Seals what an older version stored in clear and moves values off previous keys;
    // fails the start, naming the key, if a value is under a key this process lacks.
    const resealed = await resealSecrets({ db, secrets }, clock.now());
    if (resealed.subscriptionKeys + resealed.tokenKeys > 0) {
      log.info({ ...resealed, keyId: secrets.currentKeyId }, 'secrets at rest resealed under the current encryption key');
    }

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // What is running, for dashboards and alerts that compare versions across a fleet.
    new Gauge({
      name: 'herald_build_info',
      help: 'Always 1; the labels say what this process runs: Herald version, Node.js version, database, roles.',
      labelNames: ['version', 'node', 'database', 'roles'],
      registers: [registry],
    })
      .labels(VERSION, process.versions.node, db.kind, [roles.api && 'api', roles.worker && 'worker'].filter(Boolean).join(','))
      .set(1);
    const sender = makeSender({ timeoutMs: config.deliveryTimeoutMs, allowInsecure: config.allowInsecureDestinations });
    // Closed last: in-flight requests and attempts use it until they finish.
    closers.push(() => sender.close());

    let worker: Worker | undefined;
    let mailSender: MailSender | undefined;
    let retention: RetentionSweeper | undefined;
    if (roles.worker) {
      // Deliveries to a `herald listen` session go through the listen relay, the rest over HTTP.
      const relay = await startListenRelay({ db, clock, log, timeoutMs: config.deliveryTimeoutMs });
      closers.push(() => relay.close());
      worker = await startWorker({
        db,
        clock,
        config,
        log,
        secrets,
        sender: routeTransports(sender, relay),
        metrics: makeDeliveryMetrics(registry),
        random: opts.random,
        tracing: opts.tracing,
      });
      closers.unshift(() => worker!.stop());
      retention = startRetentionSweeper({ db, clock, log, config, metrics: makeRetentionMetrics(registry) });
      closers.unshift(() => retention!.stop());
      if (config.smtpUrl) {
        const mailer = makeMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom });
        mailSender = await startMailSender({ db, clock, log, mailer, pollIntervalMs: config.pollIntervalMs });
        closers.unshift(async () => {
          await mailSender!.stop();
          await mailer.close();
        });
      } else {
        log.info('HERALD_SMTP_URL is not set: mails to subscription contacts are kept in the store (GET /admin/mails)');
      }
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (roles.api) {
      const admin = resolveAdminToken(config);
      if (admin.generatedAt) {
        log.warn({ path: admin.generatedAt }, `admin token generated; read it with: cat ${admin.generatedAt}`);
      } else if (!admin.token) {
        log.warn('HERALD_ADMIN_TOKEN is not set: the /admin API is disabled');
      }
      registerBacklogGauges(registry, db, clock);
      app = await buildApp({
        config: { ...config, adminToken: admin.token },
        db,
        log,
        clock,
        registry,
        secrets,
        version: VERSION,
        probeDestination: makeDestinationProbe({ sender, clock }),
      });
      const address = await app.listen({ port: config.port, host: config.host });
      url = address;
      // First to close: stop accepting requests before the worker and the database go.
      closers.unshift(() => app!.close());
      log.info({ url, docs: `${address}/docs` }, 'Herald API listening');
    }

    // A worker without the API still answers probes and scrapes, on its own port.
    let opsUrl: string | undefined;
    if (roles.worker && !roles.api && config.workerHealthPort !== null) {
      registerBacklogGauges(registry, db, clock);
      const ops = await buildOpsApp({ db, log, registry });
      opsUrl = await ops.listen({ port: config.workerHealthPort, host: config.host });
      closers.unshift(() => ops.close());
      log.info({ url: opsUrl }, 'worker health and metrics listening');
    }

    let closing: Promise<void> | undefined;
    return {
      db,
      app,
      url,
      opsUrl,
      worker,
      mailSender,
      retention,
      close: () =>
        (closing ??= (async () => {
          const bound = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref());
          const done = (async () => {
            for (const c of closers) await c().catch((err: unknown) => log.error({ err }, 'error while shutting down'));
          })();
          if ((await Promise.race([done, bound])) === 'timeout') {
            log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown bound reached; closing with work in flight');
          }
          if (ownsDb) await db.close();
        })()),
    };
  } catch (err) {
    for (const c of closers) await c().catch(() => {});
    if (ownsDb) await db.close();
    throw err;
  }
}
