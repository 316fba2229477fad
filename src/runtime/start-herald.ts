import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildApp } from '../api/app.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { openDb } from '../store/open-db.js';
import { resolveAdminToken } from './admin-token.js';
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
}

/** Starts Herald's roles in this process: opens and migrates the database, then API and/or worker. */
export async function startHerald(opts: StartOptions): Promise<RunningHerald> {
  const { config, roles, log } = opts;
  const clock = opts.clock ?? systemClock;
  const db = opts.db ?? (await openDb(config, (err) => log.warn({ err }, 'database connection error')));
  const ownsDb = !opts.db;
  const closers: (() => Promise<void>)[] = [];

  try {
    const applied = await migrate(db);
    log.info({ database: db.kind, applied }, applied.length ? 'migrations applied' : 'database schema up to date');

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (roles.api) {
      const admin = resolveAdminToken(config);
      if (admin.generatedAt) {
        log.warn({ path: admin.generatedAt }, `admin token generated; read it with: cat ${admin.generatedAt}`);
      } else if (!admin.token) {
        log.warn('HERALD_ADMIN_TOKEN is not set: the /admin API is disabled');
      }
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      app = await buildApp({
        config: { ...config, adminToken: admin.token },
        db,
        log,
        clock,
        registry,
        version: VERSION,
      });
      const address = await app.listen({ port: config.port, host: config.host });
      url = address;
      closers.push(() => app!.close());
      log.info({ url, docs: `${address}/docs` }, 'Herald API listening');
    }
    if (roles.worker) {
      log.info('delivery worker: not part of this build yet');
    }

    let closing: Promise<void> | undefined;
    return {
      db,
      app,
      url,
      close: () =>
        (closing ??= (async () => {
          const bound = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref());
          const done = Promise.allSettled(closers.map((c) => c()));
          if ((await Promise.race([done, bound])) === 'timeout') {
            log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown bound reached; closing with work in flight');
          }
          if (ownsDb) await db.close();
        })()),
    };
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    if (ownsDb) await db.close();
    throw err;
  }
}
