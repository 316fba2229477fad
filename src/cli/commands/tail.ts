import { setTimeout as sleep } from 'node:timers/promises';
import { unwrap, type HeraldApi } from '../api-client.js';
import { clock, colourOn, jsonLine, painter, paintStatus } from '../output.js';
import { UsageError } from '../usage-error.js';
import { catalogEvent, KEY_HELP, KEY_OPTIONS, keyApi, parseFlags, untilInterrupted, uuidFlag } from './common.js';

export const TAIL_USAGE = `Usage: herald tail [--subscription UUID] [--event NAME] [--failures] [options]

  Prints the organization's delivery attempts as they happen (the newest few first):
  time, event, subscription, status or error class, latency. Ctrl-C ends it.

Options:
  --subscription UUID  only this subscription's (or listener's) attempts
  --event NAME         only attempts to deliver this event
  --failures           only failed attempts
  --interval MS        how often to look for new attempts (default 1000)
${KEY_HELP}`;

export type FeedAttempt = {
  id: number;
  started: string;
  subscriptionUuid: string;
  eventName: string;
  messageId: string;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  latencyMs: number;
  errorClass: string | null;
  errorMessage: string | null;
};

/** Follows the organization's attempt feed until `signal` aborts, handing each attempt to `onAttempt`. */
export async function followAttempts(
  api: HeraldApi,
  filter: { subscription?: string; eventName?: string; outcome?: 'failure' },
  intervalMs: number,
  signal: AbortSignal,
  onAttempt: (a: FeedAttempt) => void,
): Promise<void> {
  let after: number | undefined;
  // Attempts shown whose ids are above the cursor (recent ones come again until they settle).
  const shown = new Set<number>();
  while (!signal.aborted) {
    let page;
    try {
      page = unwrap(
        await api.GET('/organizations/{organizationUuid}/attempts', {
          params: { path: { organizationUuid: 'self' }, query: { ...filter, ...(after === undefined ? { limit: 20 } : { after, limit: 500 }) } },
          signal,
        }),
      );
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    for (const a of page.attempts) {
      if (shown.has(a.id)) continue;
      shown.add(a.id);
      onAttempt(a);
    }
    after = page.cursor;
    for (const id of shown) if (id <= page.cursor) shown.delete(id);
    if (!page.more) await sleep(intervalMs, undefined, { signal }).catch(() => {});
  }
}

/** `herald tail`: the organization's attempts, live. */
export async function tailCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, {
    ...KEY_OPTIONS,
    subscription: { type: 'string' },
    event: { type: 'string' },
    failures: { type: 'boolean', default: false },
    interval: { type: 'string' },
  });
  if (flags.help) return console.log(TAIL_USAGE);
  const interval = flags.interval === undefined ? 1000 : Number(flags.interval);
  if (!Number.isInteger(interval) || interval < 100 || interval > 60_000) throw new UsageError('--interval must be a whole number of milliseconds from 100 to 60000');
  if (flags.subscription !== undefined) uuidFlag(flags.subscription, '--subscription');
  const api = keyApi(flags);
  if (flags.event !== undefined) await catalogEvent(api, flags.event);
  const paint = painter(colourOn());
  if (!flags.json) console.error(paint('dim', 'Following delivery attempts (Ctrl-C to stop)...'));
  await untilInterrupted((signal) =>
    followAttempts(
      api,
      {
        ...(flags.subscription === undefined ? {} : { subscription: flags.subscription }),
        ...(flags.event === undefined ? {} : { eventName: flags.event }),
        ...(flags.failures ? { outcome: 'failure' as const } : {}),
      },
      interval,
      signal,
      (a) => {
        if (flags.json) return jsonLine(a);
        const result = a.outcome === 'success' ? paintStatus(paint, a.statusCode, String(a.statusCode)) : paintStatus(paint, a.statusCode, a.statusCode === null ? a.errorClass ?? 'failed' : `${a.statusCode} ${a.errorClass ?? ''}`.trim());
        const why = a.outcome === 'failure' && a.errorMessage ? `  ${paint('dim', a.errorMessage.slice(0, 120))}` : '';
        console.log(`${paint('dim', clock(new Date(a.started)))}  ${paint('bold', a.eventName)}  ${result}  ${a.latencyMs} ms  ${paint('dim', `sub ${a.subscriptionUuid}`)}${why}`);
      },
    ),
  );
}
