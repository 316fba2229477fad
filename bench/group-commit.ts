// Publishing with and without group commit, in process, 32 concurrent writers:
//   npx tsx bench/group-commit.ts [postgresUrl]
// Prints events/s for each database and mode (one transaction per event, or shared).
// The result (docs/performance.md, "Group commit"): on this machine group commit does not
// pay, so Herald does not use it; the committer lives here, with its measurement.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.js';
import { recordEvent } from '../src/domain/outbox.js';
import type { Db, Tx } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { makePgliteDb } from '../src/store/pglite-db.js';
import { makePostgresDb } from '../src/store/postgres-db.js';


/**
 * Group commit (issue 12): concurrent writers share one transaction, so one commit (one
 * WAL flush on PostgreSQL, one round of file writes on PGlite) acknowledges many.
 *
 * - A writer's work runs under its own savepoint: one that throws is rolled back alone
 *   and gets its error; the others go on.
 * - Every writer is answered only after the shared transaction committed; if the commit
 *   fails, every writer of the group gets that error (none of them was acknowledged).
 * - No wait is added: a group starts as soon as none is committing, with whoever
 *   arrived meanwhile (at most `maxGroup`). One writer alone runs as a plain transaction.
 * - A writer's work must touch only what it owns (no long locks, no waiting on another
 *   writer of the same group): the group runs them one after the other in one session.
 */

interface Waiting<T> {
  fn: (tx: Tx) => Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

interface GroupCommitter {
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

function makeGroupCommitter(db: Db, maxGroup = 64): GroupCommitter {
  const queue: Waiting<unknown>[] = [];
  let committing = false;

  async function commitGroup(group: Waiting<unknown>[]): Promise<void> {
    if (group.length === 1) {
      const [one] = group;
      await db.transaction(one!.fn).then(one!.resolve, one!.reject);
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      await db.transaction(async (tx) => {
        for (const w of group) {
          await tx.query('savepoint herald_group');
          try {
            const value = await w.fn(tx);
            await tx.query('release savepoint herald_group');
            outcomes.push({ ok: true, value });
          } catch (err) {
            await tx.query('rollback to savepoint herald_group');
            outcomes.push({ ok: false, err });
          }
        }
      });
    } catch (err) {
      // Not committed: nobody in the group is acknowledged.
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.err);
    });
  }

  async function drain(): Promise<void> {
    committing = true;
    try {
      while (queue.length > 0) await commitGroup(queue.splice(0, maxGroup));
    } finally {
      committing = false;
    }
  }

  return {
    run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve, reject } as Waiting<unknown>);
        if (!committing) void drain();
      });
    },
  };
}

const WRITERS = 32;
const EVENTS = 4000;
const PAYLOAD = { id: 'x', amount: 100, padding: 'x'.repeat(1000) };

async function measure(db: Db, grouped: boolean, tag: string): Promise<number> {
  const org = '2a0f3c50-e853-11f1-8000-000000000001';
  const group = makeGroupCommitter(db);
  const write = grouped ? group.run.bind(group) : db.transaction.bind(db);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < EVENTS) {
        const i = next++;
        await write((tx) => recordEvent(tx, systemClock, { organizationUuid: org, eventName: 'PaymentCreated', payload: PAYLOAD, livemode: true, messageId: `${tag}-${i}` }));
      }
    }),
  );
  return EVENTS / ((performance.now() - t0) / 1000);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'herald-gc-'));
  const backends: [string, () => Promise<Db>][] = [['pglite', () => makePgliteDb(dir)]];
  if (process.argv[2]) backends.push(['postgres', () => makePostgresDb(process.argv[2]!, { poolSize: 20 })]);
  for (const [name, open] of backends) {
    const db = await open();
    await migrate(db);
    const plain = await measure(db, false, `${name}-p`);
    const grouped = await measure(db, true, `${name}-g`);
    const plain2 = await measure(db, false, `${name}-p2`);
    const grouped2 = await measure(db, true, `${name}-g2`);
    console.log(`${name}: one transaction per event ${plain.toFixed(0)}, ${plain2.toFixed(0)}/s; group commit ${grouped.toFixed(0)}, ${grouped2.toFixed(0)}/s`);
    await db.close();
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
