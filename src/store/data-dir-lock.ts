import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * PGlite is a single-process database: two processes writing the same files corrupt
 * them. A lock in the data directory makes a second Herald on it fail with a clear
 * message instead.
 *
 * The lock is a directory made atomically (mkdir) whose mtime its holder refreshes every
 * LOCK_UPDATE_MS (proper-lockfile). It names no pid, because a pid cannot be trusted: in
 * containers every process may be pid 1, and two Herald containers sharing a volume
 * each took the old pid-file lock as their own. A lock not refreshed for LOCK_STALE_MS
 * was left by a process that died (SIGKILL, a lost container) and is taken over; a
 * starting process waits that long for it before it gives up.
 */
export const LOCK_STALE_MS = 10_000;
const LOCK_UPDATE_MS = 2_000;

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `the data directory ${dataDir} is in use by another Herald process. ` +
        'The embedded database serves one process; stop the other one, use another HERALD_DATA_DIR, ' +
        'or set DATABASE_URL to share a PostgreSQL server between processes.',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Takes the lock on dataDir (waiting up to LOCK_STALE_MS for a dead holder's); returns its release. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  const retries = Math.ceil(LOCK_STALE_MS / 500) + 2;
  try {
    return await lockfile.lock(dataDir, {
      realpath: false,
      lockfilePath: join(dataDir, 'herald.lock.d'),
      stale: LOCK_STALE_MS,
      update: LOCK_UPDATE_MS,
      retries: { retries, factor: 1, minTimeout: 500, maxTimeout: 500 },
      // Another process took the lock over (this one stalled past LOCK_STALE_MS): stop
      // at once rather than write the files two processes now think they own.
      onCompromised: (err) => {
        throw new Error(`lost the lock on the data directory ${dataDir} (${err.message}); stopping so that two processes never write it`);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
    throw err;
  }
}
