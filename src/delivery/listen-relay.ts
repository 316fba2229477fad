import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import { coalesced } from '../coalesce.js';
import { LISTEN_ANSWER_CHANNEL, LISTEN_REQUEST_CHANNEL, LISTEN_SCHEME, LISTENER_STALE_MS } from '../domain/listeners.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { deleteListenRequests, insertListenRequest, listenerSeenAt, readListenAnswers, type ListenAnswer } from '../store/listeners.js';
import type { Sender, SendResult } from './send.js';

/**
 * The send stage's second transport (issue 10, `herald listen`): a delivery to
 * listen://<listener id> is not sent over HTTP. The signed request goes into
 * listen_requests and wakes the API processes; the one holding that listener's stream
 * pushes it to the CLI, which forwards it to the developer's local server and reports
 * the answer through the API; the answer wakes this relay. What comes back is a
 * SendResult like any other, so deciding, retrying and the attempt log are the worker's
 * usual stages. The relay works across processes (the worker and the stream's API
 * process share only the database) and in one.
 */
export async function startListenRelay(deps: { db: Db; clock: Clock; log: Logger; timeoutMs: number }): Promise<Sender> {
  const { db, clock, log, timeoutMs } = deps;
  type Outcome = ListenAnswer | 'gone' | 'timeout';
  const waiting = new Map<string, (o: Outcome) => void>();
  // Requests whose insert has committed: only these are read (a request still being
  // inserted is invisible to another connection, and would look gone).
  const inserted = new Set<string>();

  // On each wake-up, one read of every request still waiting (wake-ups are coalesced).
  const check = coalesced(async () => {
    const ids = [...inserted];
    if (ids.length === 0) return;
    try {
      const rows = await readListenAnswers(db, ids);
      const present = new Set(rows.map((r) => r.id));
      for (const r of rows) if (r.answer) waiting.get(r.id)?.(r.answer);
      for (const id of ids) if (!present.has(id)) waiting.get(id)?.('gone');
    } catch (err) {
      log.warn({ err }, 'reading the answers of herald listen failed; waiting requests time out unless a later wake-up reads them');
    }
  });
  const unlisten = await db.listen(LISTEN_ANSWER_CHANNEL, () => void check());

  async function send(url: string, body: string, headers: Record<string, string>): Promise<SendResult> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const listenerId = url.slice(`${LISTEN_SCHEME}//`.length);
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const outcome = new Promise<Outcome>((resolve) => {
      waiting.set(id, resolve);
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const seenAt = await listenerSeenAt(db, listenerId);
      if (!seenAt || clock.now().getTime() - seenAt.getTime() > LISTENER_STALE_MS) {
        return { ok: false, errorClass: 'connect', message: 'no herald listen is connected for this listener', latencyMs: latencyMs() };
      }
      try {
        await db.transaction(async (tx) => {
          await insertListenRequest(tx, { id, listenerId, headers, body, now: clock.now() });
          tx.notifyOnCommit(LISTEN_REQUEST_CHANNEL);
        });
      } catch (err) {
        if ((err as { code?: string }).code !== '23503') throw err; // foreign key: the listener ended meanwhile
        return { ok: false, errorClass: 'connect', message: 'the listener ended', latencyMs: latencyMs() };
      }
      inserted.add(id);
      return resultOf(await outcome, latencyMs(), timeoutMs);
    } catch (err) {
      // The database failed us: an attempt that failed, like a send that could not connect.
      return { ok: false, errorClass: 'other', message: `relaying to herald listen failed: ${(err as Error).message}`, latencyMs: latencyMs() };
    } finally {
      clearTimeout(timer);
      waiting.delete(id);
      if (inserted.delete(id)) {
        await deleteListenRequests(db, [id]).catch((err: unknown) => log.warn({ err }, 'removing an answered listen request failed'));
      }
    }
  }

  return {
    send,
    close: async () => {
      await unlisten();
      for (const resolve of waiting.values()) resolve('gone');
    },
  };
}

/** The CLI's report (or its absence) as the worker's SendResult. */
function resultOf(o: ListenAnswer | 'gone' | 'timeout', latencyMs: number, timeoutMs: number): SendResult {
  if (o === 'timeout') return { ok: false, errorClass: 'timeout', message: `herald listen reported no answer within ${timeoutMs} ms`, latencyMs };
  if (o === 'gone') return { ok: false, errorClass: 'connect', message: 'the listener ended before reporting an answer', latencyMs };
  if ('error' in o) return { ok: false, errorClass: o.error, message: `the local server: ${o.message}`, latencyMs };
  if (o.status >= 200 && o.status < 300) return { ok: true, status: o.status, latencyMs, excerpt: o.excerpt ?? '' };
  const errorClass = o.status >= 300 && o.status < 400 ? 'redirect' : 'http_status';
  return { ok: false, errorClass, status: o.status, message: `the local server answered ${o.status}`, latencyMs, excerpt: o.excerpt ?? '' };
}

/** The send stage's transports by the destination's scheme: listen:// through the relay, the rest over HTTP. */
export function routeTransports(http: Sender, listen: Sender): Sender {
  return {
    send: (url, body, headers) => (url.startsWith(LISTEN_SCHEME) ? listen : http).send(url, body, headers),
    close: async () => {
      await Promise.all([listen.close(), http.close()]);
    },
  };
}
