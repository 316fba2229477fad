import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  /** Path with query string, e.g. `/hook?x=1`. */
  path: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Header names and values as they came on the wire (name, value, name, value...). */
  rawHeaders: string[];
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  receivedAt: number;
}

/** What the receiver answers; every field but status is optional. */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (to provoke timeouts). */
  delayMs?: number;
}

export type Responder = number | ((req: ReceivedRequest) => ReceiverAnswer | Promise<ReceiverAnswer>);

/** A real HTTP webhook receiver on 127.0.0.1 whose answer can be switched mid-test. */
export interface TestReceiver {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** Every request received so far, oldest first. */
  requests: ReceivedRequest[];
  /** TCP connections accepted so far (to check keep-alive reuse). */
  readonly connectionCount: number;
  server: Server;
  /** Switches the answer: a status (body "ok") or a function of the request. */
  respondWith(responder: Responder): void;
  /**
   * Resolves with the requests once at least n have arrived; rejects after timeoutMs (a
   * safety net for a stuck test, 60 s by default: never a budget an idle machine meets).
   */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Forgets recorded requests and connections and restores the default answer (200 "ok"). */
  reset(): void;
  /** Stops listening and drops open (keep-alive) sockets. */
  close(): Promise<void>;
}

const DEFAULT: Responder = 200;

function parseJson(body: string): unknown {
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Starts a TestReceiver on a random port of 127.0.0.1. */
export async function startReceiver(): Promise<TestReceiver> {
  let responder: Responder = DEFAULT;
  let connections = 0;
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  // Answers held back by delayMs: cleared on close, so a long delay never keeps the test process alive.
  const delays = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        json: parseJson(body),
        receivedAt: Date.now(),
      };
      requests.push(received);
      for (const wake of [...waiters]) wake();
      // Read the responder now, so a switch mid-test applies to the next request only.
      const current = responder;
      void (async () => {
        let answer: ReceiverAnswer;
        try {
          answer = typeof current === 'number' ? { status: current } : await current(received);
        } catch (err) {
          answer = { status: 500, body: `receiver responder threw: ${String(err)}` };
        }
        if (answer.delayMs) {
          await new Promise<void>((r) => {
            const timer = setTimeout(() => {
              delays.delete(timer);
              r();
            }, answer.delayMs);
            delays.add(timer);
          });
        }
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? (typeof current === 'number' ? 'ok' : ''));
      })();
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/hook`,
    origin,
    port,
    requests,
    get connectionCount() {
      return connections;
    },
    server,
    respondWith(r) {
      responder = r;
    },
    waitFor(n, timeoutMs = 60_000) {
      if (requests.length >= n) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length >= n) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(requests.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: expected ${n} request(s) within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    reset() {
      requests.length = 0;
      connections = 0;
      responder = DEFAULT;
    },
    async close() {
      for (const t of delays) clearTimeout(t);
      delays.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Sockets mid-request (a delayed answer) are not "idle or active HTTP" in every case.
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
