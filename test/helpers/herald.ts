import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { makeLogger, type Logger } from '../../src/logger.js';
import { startHerald, type Roles, type RunningHerald } from '../../src/runtime/start-herald.js';
import type { TestDatabase, TestDb } from './db.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestHerald extends RunningHerald {
  url: string;
  config: Config;
  testDb: TestDb;
  /** fetch against the running server; path is relative to its root. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** The same with the admin token. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts a real Herald (API on a random port, worker if asked) on a fresh test database. */
export async function startTestHerald(
  backend: TestDatabase,
  opts: {
    config?: Partial<Config>;
    clock?: Clock;
    roles?: Roles;
    random?: () => number;
    /** Start on this database (kept when the Herald stops) instead of a fresh one. */
    testDb?: TestDb;
    /** A logger of the test's own (to read what Herald logs). */
    log?: Logger;
  } = {},
): Promise<TestHerald> {
  const testDb = opts.testDb ?? (await backend.open());
  const config = loadConfig(
    {},
    {
      port: 0,
      adminToken: TEST_ADMIN_TOKEN,
      encryptionKey: randomBytes(32),
      allowInsecureDestinations: true,
      logLevel: 'silent',
      ...opts.config,
    },
  );
  const log = opts.log ?? makeLogger({ logLevel: process.env.HERALD_TEST_LOG_LEVEL as Config['logLevel'] ?? 'silent', logFormat: 'json' });
  const herald = await startHerald({
    config,
    roles: opts.roles ?? { api: true, worker: false },
    log,
    clock: opts.clock,
    random: opts.random,
    db: testDb.db,
  });
  const url = herald.url!;
  const request = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
  return {
    ...herald,
    url,
    config,
    testDb,
    request,
    admin: (path, init = {}) =>
      request(path, {
        ...init,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
      }),
    async stop() {
      await herald.close();
      if (!opts.testDb) await testDb.dispose();
    },
  };
}
