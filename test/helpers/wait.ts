import assert from 'node:assert/strict';

// Safety nets for a stuck test, not budgets: on a busy machine these waits end on their
// signal long before.
const SAFETY_NET_MS = 60_000;

/** Polls `check` until it returns a value (the API shows what the worker recorded); fails after the safety net. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + SAFETY_NET_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Reads a text stream (a server-sent-events response) until what it read so far satisfies
 * `done`; returns that text. Fails if the stream ends first, or after the safety net.
 */
export async function readUntil(reader: ReadableStreamDefaultReader<string>, done: (text: string) => boolean, what: string): Promise<string> {
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never read ${what}; read so far:\n${text}`)), SAFETY_NET_MS);
  });
  try {
    while (!done(text)) {
      const chunk = await Promise.race([reader.read(), timeout]);
      assert.ok(!chunk.done, `the stream ended before ${what}`);
      text += chunk.value;
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}
