import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface HeraldProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs the shipped `herald` CLI as a separate process. */
export function runHerald(args: string[], env: Record<string, string>): HeraldProcess {
  const child = spawn(process.execPath, [HERALD_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HERALD_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * Polls url until it answers 200: the readiness signal. Fails at once when the process
 * exits first. The time bound is only a safety net for a hung process (5 minutes): on a
 * busy machine a first start may take many times what it takes on an idle one.
 */
export async function waitForHttp(url: string, timeoutMs = 300_000, proc?: HeraldProcess): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return Date.now() - start;
    } catch {
      // not up yet
    }
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`herald exited (${proc.child.exitCode ?? proc.child.signalCode}) before ${url} answered\n${proc.output()}`);
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms\n${proc?.output() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
