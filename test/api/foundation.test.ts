// The HTTP foundation on a real server: probes, metrics, OpenAPI, error bodies, admin auth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';

for (const backend of testDatabases()) {
  describe(`HTTP foundation: ${backend.name}`, () => {
    let h: TestHerald;
    before(async () => {
      h = await startTestHerald(backend);
    });
    after(() => h.stop());

    it('GET /healthz and /readyz answer 200', async () => {
      assert.deepEqual(await (await h.request('/healthz')).json(), { status: 'ok' });
      assert.deepEqual(await (await h.request('/readyz')).json(), { status: 'ready', database: backend.name });
    });

    it('/readyz answers 503 with the error body when migrations are missing', async () => {
      await h.db.query(`update herald_migrations set id = -id`);
      try {
        const r = await h.request('/readyz');
        assert.equal(r.status, 503);
        const body = (await r.json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body).sort(), ['developerMessage', 'errorType', 'violations']);
        assert.equal(body.errorType, 'NOT_READY');
      } finally {
        await h.db.query(`update herald_migrations set id = -id`);
      }
    });

    it('GET /metrics is Prometheus text and counts requests by route', async () => {
      await h.request('/healthz');
      const r = await h.request('/metrics');
      assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
      const text = await r.text();
      assert.match(text, /herald_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
      assert.match(text, /process_resident_memory_bytes/);
    });

    it('GET /openapi.json is OpenAPI 3.1 generated from the routes, and /docs is a page', async () => {
      const doc = (await (await h.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/readyz']);
      const page = await h.request('/docs/');
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    });

    it('unknown routes get the spec error body', async () => {
      const r = await h.request('/no/such/route');
      assert.equal(r.status, 404);
      assert.deepEqual(await r.json(), { developerMessage: 'no route for GET /no/such/route', errorType: 'NOT_FOUND', violations: [] });
    });

    it('admin routes require the admin token', async () => {
      const none = await h.request('/admin/organizations', { method: 'POST' });
      assert.equal(none.status, 401);
      const wrong = await h.request('/admin/organizations', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
      });
      assert.equal(wrong.status, 401);
      assert.equal(((await wrong.json()) as { developerMessage: string }).developerMessage, 'invalid admin token');
    });
  });
}

describe('HTTP foundation: errors before routing', () => {
  let h: TestHerald;
  before(async () => {
    h = await startTestHerald(testDatabases()[0]!);
  });
  after(() => h.stop());

  it('a URL that does not decode and an over-long path parameter get the spec error body', async () => {
    for (const [path, status] of [
      ['/organizations/%C0%80/subscriptions', 400],
      [`/organizations/self/subscriptions/${'x'.repeat(300)}`, 414],
    ] as const) {
      const r = await h.request(path, { method: 'DELETE' });
      assert.equal(r.status, status);
      const body = (await r.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['developerMessage', 'errorType', 'violations']);
    }
  });

  it('headers too large for the HTTP parser get 431 with the spec error body', async () => {
    const { request } = await import('node:http');
    const url = new URL(h.url);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/healthz', headers: { 'x-big': 'y'.repeat(20_000) } }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 431);
    assert.equal((JSON.parse(res.body) as { errorType: string }).errorType, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });
});
