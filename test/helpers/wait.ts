import assert from 'node:assert/strict';

// Safety nets for a stuck test, not budgets: on a busy machine these waits end on their
// signal long before.
const SAFETY_NET_MS = 60_000;

/** A promise that fails with `message` after the safety net; `clear` disarms it. */
function safetyNet(message: () => string): { net: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const net = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: message() })), SAFETY_NET_MS);
  });
  net.catch(() => {}); // raced below; never an unhandled rejection
  return { net, clear: () => clearTimeout(timer) };
}

/**
 * Polls `check` until it returns a value (the API shows what the worker recorded); fails
 * after the safety net, also when a check itself never settles (a request never answered).
 */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const { net, clear } = safetyNet(() => `never: ${what}`);
  try {
    for (;;) {
      const v = await Promise.race([check(), net]);
      if (v !== undefined) return v;
      await Promise.race([new Promise((r) => setTimeout(r, 25)), net]);
    }
  } finally {
    clear();
  }
}

/** Resolves as `promise` does; fails if it has not settled by the safety net (a stop that never ends). */
export async function settles<T>(promise: Promise<T>, what: string): Promise<T> {
  const { net, clear } = safetyNet(() => `never settled: ${what}`);
  try {
    return await Promise.race([promise, net]);
  } finally {
    clear();
  }
}

/**
 * Reads a text stream (a server-sent-events response) until what it read so far satisfies
 * `done`; returns that text. Fails if the stream ends first, or after the safety net; a
 * stream it fails on is cancelled (its connection would keep the test process alive).
 */
export async function readUntil(reader: ReadableStreamDefaultReader<string>, done: (text: string) => boolean, what: string): Promise<string> {
  let text = '';
  const { net, clear } = safetyNet(() => `never read ${what}; read so far:\n${text}`);
  try {
    while (!done(text)) {
      const chunk = await Promise.race([reader.read(), net]);
      assert.ok(!chunk.done, `the stream ended before ${what}`);
      text += chunk.value;
    }
    return text;
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    clear();
  }
}
