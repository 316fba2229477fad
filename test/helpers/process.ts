import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { v1 as randomUUIDv1 } from 'uuid';

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

/**
 * Through a running Herald's HTTP API (as a client would): an organization, an API key
 * with READ:FINANCE, and one subscription to PaymentCreated at `destination`, which must
 * answer the TestMessage. Returns the organization's uuid.
 */
export async function subscribeToPayments(base: string, adminToken: string, destination: string, name = 'Test'): Promise<string> {
  const admin = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const { organizationUuid } = await admin<{ organizationUuid: string }>('/admin/organizations', { name });
  const { apiKey } = await admin<{ apiKey: string }>(`/admin/organizations/${organizationUuid}/api-keys`, { name: 'k', scopes: ['READ:FINANCE'] });
  const sub = await fetch(`${base}/organizations/self/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      uuid: randomUUIDv1(),
      transportName: 'WEBHOOK',
      eventNames: ['PaymentCreated'],
      destination,
      contactEmail: 'ops@example.com',
    }),
  });
  if (sub.status !== 200) throw new Error(`creating the subscription: ${sub.status} ${await sub.text()}`);
  return organizationUuid;
}
