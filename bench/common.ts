// What bench/scenario.ts (Herald) and bench/peers.ts (graphile-worker, BullMQ) share, so
// that their figures are comparable: the receiver's 16 origins, the concurrency, the
// payload, and the raw limit (a) measured the same way in every process.
import { Agent, request } from 'undici';
import { pusherEnvelope } from '../src/domain/delivery-request.js';
import { signRequest } from '../src/delivery/envelopes.js';
import { newSigningKey } from '../src/domain/subscriptions.js';

/** The receiver listens on 127.0.0.1 to 127.0.0.16: 16 destination origins. */
export const ORIGINS = 16;
/** At most this many requests at once (Herald's worker concurrency, the peers' too). */
export const CONCURRENCY = 64;
/** ~1 KiB of JSON. */
export const PAYLOAD = { kind: 'bench', padding: 'x'.repeat(1000) };

export const originOf = (port: number, i: number) => `http://127.0.0.${(i % ORIGINS) + 1}:${port}`;
export const now = () => performance.timeOrigin + performance.now();

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** (a) The raw limit: the same signed POSTs from a bare undici loop, same receiver, same concurrency. */
export async function rawLimit(port: number, seconds: number): Promise<number> {
  const agent = new Agent({ connections: 8, keepAliveTimeout: 30_000 });
  const key = newSigningKey();
  let sent = 0;
  const stopAt = now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; now() < stopAt; i += CONCURRENCY) {
        const env = pusherEnvelope({ organizationUuid: 'raw', eventName: 'PaymentCreated', messageId: `raw-${w}-${i}`, payload: PAYLOAD, timestamp: new Date() });
        const res = await request(`${originOf(port, i)}/hook`, { method: 'POST', body: env.body, headers: signRequest(env, key, new Date()), dispatcher: agent });
        await res.body.text();
        if (res.statusCode === 200) sent++;
      }
    }),
  );
  await agent.close();
  return sent / seconds;
}

/** Waits until the receiver reported every id in `received` (polled; `timeoutMs` is a safety net). */
export async function waitForReceipts(received: Map<string, number>, ids: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (ids.some((id) => !received.has(id))) {
    if (Date.now() > end) throw new Error(`only ${ids.filter((id) => received.has(id)).length}/${ids.length} received`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
