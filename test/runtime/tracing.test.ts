// OpenTelemetry tracing (issue 10): `herald serve` with the standard OTEL_* variables
// exports a publish span and, for each delivery attempt, a child span in the same trace,
// over OTLP/HTTP to a real collector endpoint on 127.0.0.1; the delivery request carries
// the attempt span's traceparent. Off by default: no span, no header, nothing stored.
// Needs the build (npm run build).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN } from '../helpers/herald.js';
import { freePort, runHerald, subscribeToPayments, waitForHttp, type HeraldProcess } from '../helpers/process.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const ADMIN = 'tracing-test-admin-token-0123456789';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A collector: every span POSTed to /v1/traces (OTLP JSON). */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, server };
}

const attr = (s: OtlpSpan, key: string) => Object.values(s.attributes.find((a) => a.key === key)?.value ?? {})[0];

describe('OpenTelemetry tracing', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let receiver: TestReceiver;
  let server: HeraldProcess;
  let dataDir: string;
  let base: string;

  before(async () => {
    collector = await startCollector();
    receiver = await startReceiver();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-tracing-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = runHerald(['serve'], {
      PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_ALLOW_INSECURE_DESTINATIONS: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'herald-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    await waitForHttp(`${base}/readyz`, undefined, server);
  });
  after(async () => {
    if (server?.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await receiver?.close();
    collector?.server.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('links each delivery attempt to the publish of its event, and sends the trace to the receiver', async () => {
    const org = await subscribeToPayments(base, ADMIN, receiver.url);
    receiver.reset();
    const r = await fetch(`${base}/admin/organizations/${org}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventName: 'PaymentCreated', payload: { amount: 100 } }),
    });
    assert.equal(r.status, 202, await r.clone().text());
    const { messageId } = (await r.json()) as { messageId: string };
    const [req] = await receiver.waitFor(1);
    const traceparent = String(req!.headers.traceparent ?? '');
    assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // The exporter batches: wait for both spans to reach the collector.
    const deadline = Date.now() + 60_000; // a safety net, not a budget
    let publish: OtlpSpan | undefined;
    let deliver: OtlpSpan | undefined;
    while (!(publish && deliver)) {
      publish = collector.spans.find((s) => s.name === 'publish PaymentCreated' && attr(s, 'messaging.message.id') === messageId);
      deliver = collector.spans.find((s) => s.name === 'deliver PaymentCreated' && attr(s, 'messaging.message.id') === messageId);
      if (Date.now() > deadline) assert.fail(`spans never arrived: ${JSON.stringify(collector.spans.map((s) => s.name))}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(deliver.traceId, publish.traceId, 'one trace from publish to delivery');
    assert.equal(deliver.parentSpanId, publish.spanId, 'the attempt is a child of the publish');
    assert.equal(traceparent.split('-')[1], deliver.traceId, 'the receiver joins the trace');
    assert.equal(traceparent.split('-')[2], deliver.spanId);
    assert.equal(attr(deliver, 'http.response.status_code'), 200);
    assert.equal(attr(deliver, 'herald.outcome'), 'delivered');
  });

  it('is off by default: no traceparent header, no trace context stored', async () => {
    const h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!, { roles: { api: true, worker: true } });
    try {
      const org = await subscribeToPayments(h.url, TEST_ADMIN_TOKEN, receiver.url);
      receiver.reset();
      const r = await h.admin(`/admin/organizations/${org}/events`, { method: 'POST', body: JSON.stringify({ eventName: 'PaymentCreated', payload: {} }) });
      assert.equal(r.status, 202);
      const [req] = await receiver.waitFor(1);
      assert.equal(req!.headers.traceparent, undefined);
      const stored = await h.testDb.db.query<{ n: number }>('select count(*)::int as n from events where trace_context is not null');
      assert.equal(stored.rows[0]!.n, 0);
    } finally {
      await h.stop();
    }
  });
});
