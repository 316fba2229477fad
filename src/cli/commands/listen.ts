import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ApiError, ConnectionError, unwrap, type HeraldApi } from '../api-client.js';
import { clock, colourOn, jsonLine, painter, paintStatus } from '../output.js';
import { httpUrl } from '../target.js';
import { KEY_HELP, KEY_OPTIONS, keyApi, listOf, parseFlags, requireFlag, untilInterrupted } from './common.js';

export const LISTEN_USAGE = `Usage: herald listen --forward-to URL [--events NAME,...] [options]

  Receives the organization's events while it runs and forwards each one, signed as
  Herald signs every delivery, to URL (a server on this machine), printing its answer.
  Herald records every answer in the attempt log like any delivery attempt. Nothing is
  sent to your address by Herald itself: the deliveries travel over this command's
  connection. Ctrl-C ends it (and its temporary subscription).

Options:
  --forward-to URL     where to POST each delivery, e.g. http://localhost:3000/webhooks
  --events A,B         only these events (default: every event the API key's scopes allow)
${KEY_HELP}`;

/** What the local server made of one forwarded delivery, as reported to Herald. */
export type ForwardAnswer =
  | { status: number; latencyMs: number; excerpt: string }
  | { error: 'connect' | 'timeout' | 'other'; message: string; latencyMs: number };

export interface ListenerInfo {
  id: string;
  eventNames: string[];
  signingKey: string;
  timeoutMs: number;
}

export interface Forwarded {
  requestId: string;
  eventName: string | null;
  messageId: string | null;
  answer: ForwardAnswer;
  /** false when Herald had stopped waiting for this answer (it was too late). */
  recorded: boolean;
}

export interface ListenOptions {
  api: HeraldApi;
  forwardTo: string;
  eventNames?: string[];
  signal: AbortSignal;
  onReady(listener: ListenerInfo): void;
  /** Each time its stream is open (Herald said `ready`): deliveries reach this session from now on. */
  onConnected?(listener: ListenerInfo): void;
  onForwarded(f: Forwarded): void;
  onDisconnected(reason: string): void;
}

const EXCERPT_CHARS = 4096;
const RECONNECT_MS = 2000;

/** The event name and message id a delivery's body carries (Pusher or Inventory envelope). */
function describeBody(body: string): { eventName: string | null; messageId: string | null } {
  try {
    const b = JSON.parse(body) as { eventName?: unknown; messageId?: unknown; event?: unknown; id?: unknown };
    const name = typeof b.eventName === 'string' ? b.eventName : typeof b.event === 'string' ? b.event : null;
    const id = typeof b.messageId === 'string' ? b.messageId : typeof b.id === 'string' ? b.id : null;
    return { eventName: name, messageId: id };
  } catch {
    return { eventName: null, messageId: null };
  }
}

/** POSTs one delivery to the local server, exactly as signed, and reads the start of its answer. */
async function forward(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<ForwardAnswer> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, latencyMs: latencyMs(), excerpt: text.slice(0, EXCERPT_CHARS) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { error: 'timeout', message: `no answer within ${timeoutMs} ms`, latencyMs: latencyMs() };
    const code = e.cause?.code ?? '';
    const message = (e.cause?.message ?? e.message).slice(0, 500);
    return { error: /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code) ? 'connect' : 'other', message, latencyMs: latencyMs() };
  }
}

/**
 * Runs a listener until `signal` aborts: creates it, follows its stream, forwards each
 * request and reports the answer. When the stream drops (Herald restarted, a network
 * blip), it reopens the same listener's stream after a pause (same key; requests wait
 * for it meanwhile), and starts a new listener only if that one has ended. The first
 * creation's failure is thrown (a wrong URL or key).
 */
export async function runListener(opts: ListenOptions): Promise<void> {
  const { api, signal } = opts;
  const path = { organizationUuid: 'self' };
  let listener: ListenerInfo | undefined;
  let first = true;
  const pause = () => sleep(RECONNECT_MS, undefined, { signal }).catch(() => {});
  while (!signal.aborted) {
    if (!listener) {
      try {
        listener = unwrap(
          await api.POST('/organizations/{organizationUuid}/listeners', {
            params: { path },
            body: opts.eventNames ? { eventNames: opts.eventNames } : {},
            signal,
          }),
        );
      } catch (err) {
        if (signal.aborted) return;
        if (first || !(err instanceof ConnectionError)) throw err;
        await pause();
        continue;
      }
      first = false;
      opts.onReady(listener);
    }
    // The local server gets a little less time than Herald waits, so its answer arrives in time.
    const forwardTimeout = Math.max(500, Math.min(listener.timeoutMs - 1000, Math.round(listener.timeoutMs * 0.8)));
    const current = listener;
    const lpath = { ...path, listenerId: current.id };
    let reason = 'the stream ended';
    try {
      const r = await api.GET('/organizations/{organizationUuid}/listeners/{listenerId}/stream', { params: { path: lpath }, parseAs: 'stream', signal });
      if (!r.response.ok || !r.response.body) unwrap(r);
      // The pipe itself ends the stream when `signal` aborts. fetch's own abort is not
      // enough: openapi-fetch passes fetch a Request made with the signal, and once that
      // Request is garbage-collected, Node's fetch no longer hears the abort (undici follows
      // a Request's signal through a WeakRef: nodejs/node#55428), so Ctrl-C left the
      // stream open and this loop waiting on it forever.
      const events = r.response.body!.pipeThrough(new TextDecoderStream(), { signal }).pipeThrough(new EventSourceParserStream());
      for await (const ev of events) {
        if (ev.event === 'ready') opts.onConnected?.(current);
        if (ev.event !== 'request') continue;
        const req = JSON.parse(ev.data) as { id: string; headers: Record<string, string>; body: string };
        void (async () => {
          const answer = await forward(opts.forwardTo, req.headers, req.body, forwardTimeout);
          let recorded = true;
          try {
            unwrap(
              await api.POST('/organizations/{organizationUuid}/listeners/{listenerId}/answers/{requestId}', {
                params: { path: { ...lpath, requestId: req.id } },
                body: answer,
              }),
            );
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 404)) throw err;
            recorded = false;
          }
          opts.onForwarded({ requestId: req.id, ...describeBody(req.body), answer, recorded });
        })().catch((err: unknown) => opts.onDisconnected(`reporting an answer failed: ${(err as Error).message}`));
      }
    } catch (err) {
      if (signal.aborted) break;
      // The listener ended (a minute without a stream, a revoked key): start a new one.
      if (err instanceof ApiError && err.status === 404) listener = undefined;
      reason = (err as Error).message;
    }
    if (signal.aborted) break;
    opts.onDisconnected(reason);
    await pause();
  }
  // Stopped: end the listener now (else Herald would keep it, and queue its events, for a minute).
  if (listener) {
    const r = await api
      .DELETE('/organizations/{organizationUuid}/listeners/{listenerId}', { params: { path: { ...path, listenerId: listener.id } } })
      .catch(() => undefined);
    if (r && !r.response.ok && r.response.status !== 404) unwrap(r);
  }
}

/** `herald listen`: forwards the organization's deliveries to a local server until Ctrl-C. */
export async function listenCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, { ...KEY_OPTIONS, 'forward-to': { type: 'string' }, events: { type: 'string' } });
  if (flags.help) return console.log(LISTEN_USAGE);
  const forwardTo = httpUrl(requireFlag(flags['forward-to'], '--forward-to'), '--forward-to', 'http://localhost:3000/webhooks');
  const eventNames = flags.events === undefined ? undefined : listOf(flags.events, '--events');
  const api = keyApi(flags);
  const paint = painter(colourOn());
  await untilInterrupted((signal) =>
    runListener({
      api,
      forwardTo,
      eventNames,
      signal,
      onReady(l) {
        if (flags.json) return jsonLine({ type: 'ready', listenerId: l.id, eventNames: l.eventNames, signingKey: l.signingKey, forwardTo });
        console.log(`${paint('green', 'Ready.')} Forwarding ${paint('bold', l.eventNames.length === 0 ? 'every event' : l.eventNames.join(', '))} to ${paint('cyan', forwardTo)}`);
        console.log(`  listener     ${l.id}`);
        console.log(`  signing key  ${l.signingKey}  ${paint('dim', '(verify deliveries with it: docs/receiving.md)')}`);
        console.log(paint('dim', '  Ctrl-C to stop'));
      },
      onForwarded(f) {
        if (flags.json) return jsonLine({ type: 'forwarded', ...f });
        const a = f.answer;
        const outcome = 'status' in a ? paintStatus(paint, a.status, String(a.status)) : paint('red', `${a.error}: ${a.message}`);
        const late = f.recorded ? '' : paint('yellow', '  (too late: Herald had stopped waiting and will retry)');
        console.log(`${paint('dim', clock())}  ${paint('bold', f.eventName ?? '?')}  -> ${outcome}  ${a.latencyMs} ms  ${paint('dim', f.messageId ?? '')}${late}`);
      },
      onDisconnected(reason) {
        if (flags.json) return jsonLine({ type: 'disconnected', reason });
        console.error(paint('yellow', `Disconnected (${reason}); reconnecting...`));
      },
    }),
  );
  if (flags.json) jsonLine({ type: 'stopped' });
  else console.log('Stopped.');
}
