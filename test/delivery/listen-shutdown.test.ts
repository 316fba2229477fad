// `herald listen`'s stream always ends, whatever the timing: the CLI's when it is stopped
// (Ctrl-C), the server's when it shuts down. Either one left open keeps a process alive
// for ever (a CI run hung on it): the CLI waiting for events, the server's close waiting
// for the stream's connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { heraldApi } from '../../src/cli/api-client.js';
import { runListener, type ListenerInfo } from '../../src/cli/commands/listen.js';
import { LISTEN_REQUEST_CHANNEL } from '../../src/domain/listeners.js';
import type { Db } from '../../src/store/db.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { captureLog } from '../helpers/log.js';
import { settles } from '../helpers/wait.js';

// A full garbage collection on demand (what a long `herald listen` gets sooner or later).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const collectGarbage = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    // Finalizers (FinalizationRegistry) run in a later task.
    await new Promise((r) => setImmediate(r));
  }
};

/** A promise and its resolve function. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The database, with one statement held at a gate the test opens, and a signal when a
 * channel is unlistened (the stream routes' preClose does that once it has ended the streams).
 */
function gatedDb(db: Db) {
  let gate: { matches: (sql: string) => boolean; reached: () => void; opened: Promise<void> } | undefined;
  const unlistened = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const unlistenedSignal = (channel: string) => {
    if (!unlistened.has(channel)) unlistened.set(channel, signal());
    return unlistened.get(channel)!;
  };
  const gated: Db = {
    kind: db.kind,
    query: async (sql, params) => {
      if (gate?.matches(sql)) {
        const g = gate;
        gate = undefined;
        g.reached();
        await g.opened;
      }
      return db.query(sql, params);
    },
    transaction: (fn) => db.transaction(fn),
    exec: (sql) => db.exec(sql),
    listen: async (channel, onNotify) => {
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        unlistenedSignal(channel).resolve();
        await unlisten();
      };
    },
    close: () => db.close(),
  };
  return {
    db: gated,
    /** Holds the next statement `matches` accepts; resolves once one waits there, with the function that lets it go. */
    hold(matches: (sql: string) => boolean): Promise<() => void> {
      const reached = signal();
      const opened = signal();
      gate = { matches, reached: reached.resolve, opened: opened.promise };
      return reached.promise.then(() => opened.resolve);
    },
    unlistened: (channel: string) => unlistenedSignal(channel).promise,
  };
}

for (const backend of testDatabases()) {
  describe(`listen streams end (${backend.name})`, () => {
    let testDb: TestDb;
    let gated: ReturnType<typeof gatedDb>;
    let api: TestHerald | undefined;
    let cred: TestCredential;
    const captured = captureLog();

    before(async () => {
      testDb = await backend.open();
      gated = gatedDb(testDb.db);
      api = await startTestHerald(backend, { testDb: { ...testDb, db: gated.db }, log: captured.log });
      cred = await createCredential(api, ['READ:PRODUCT']);
    });
    after(async () => {
      await api?.stop();
      await testDb?.dispose();
    });

    it('a stopped session ends its stream, also after a garbage collection', async () => {
      const stop = new AbortController();
      const connected = signal<ListenerInfo>();
      const done = runListener({
        api: heraldApi(api!.url, cred.apiKey),
        forwardTo: 'http://127.0.0.1:1/unused',
        eventNames: ['ProductCreated'],
        signal: stop.signal,
        onReady: () => {},
        onConnected: connected.resolve,
        onForwarded: () => {},
        onDisconnected: () => {},
      });
      try {
        const listener = await settles(connected.promise, 'the stream open');
        // The Request that openapi-fetch made for the stream is unreachable by now: once
        // collected, Node's fetch no longer hears the signal (nodejs/node#55428).
        await collectGarbage();
        stop.abort();
        await settles(done, 'the session stopped');
        // Stopped, it ended its listener (it would otherwise keep its events for a minute).
        const left = await testDb.db.query<{ n: number }>('select count(*)::int as n from listeners where id = $1', [listener.id]);
        assert.equal(left.rows[0]!.n, 0);
      } finally {
        stop.abort();
      }
    });

    it('a stream still being looked up when the server starts closing never opens, and the close ends', async () => {
      const call = asCredential(api!, cred);
      const created = (await (await call('POST', '/organizations/self/listeners', { eventNames: ['ProductCreated'] })).json()) as ListenerInfo;
      // The stream's request waits in the listener's lookup...
      const looking = gated.hold((sql) => sql.includes('from listeners l join subscriptions s'));
      const client = new AbortController();
      const opening = api!.request(`/organizations/self/listeners/${created.id}/stream`, { headers: { authorization: cred.auth }, signal: client.signal });
      opening.catch(() => {});
      const release = await looking;
      // ...while the server starts closing, and its streams' preClose has run...
      const closing = api!.stop();
      await gated.unlistened(LISTEN_REQUEST_CHANNEL);
      // ...then the lookup ends.
      release();
      try {
        const res = await opening;
        assert.equal(res.status, 503, 'no stream opens on a closing server');
        await res.body?.cancel();
        await closing;
        assert.ok(
          !captured.lines.some((l) => l.msg === 'shutdown bound reached; closing with work in flight'),
          'the close ended by itself, not at its bound',
        );
      } finally {
        // Without the guarantee, the stream holds the close: let it go.
        client.abort();
        await closing;
        api = undefined;
      }
    });
  });
}
