// The API reference page (issue 10): GET /docs is Swagger UI titled and branded Herald,
// every asset served by Herald itself (no CDN: it works offline and behind a strict
// proxy), and the document it shows links every guide of docs/.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

describe('OpenAPI: the /docs page', () => {
  let h: TestHerald;
  let html: string;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    const res = await h.request('/docs/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    html = await res.text();
  });
  after(() => h?.stop());

  const assets = () => [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

  it("is titled Herald's", () => {
    assert.match(html, /<title>Herald API reference<\/title>/);
  });

  it('loads every asset from Herald itself', async () => {
    assert.ok(assets().length >= 5, assets().join(', '));
    for (const src of assets()) {
      assert.doesNotMatch(src, /^(?:[a-z]+:)?\/\//i, `${src} is served by Herald`);
      const res = await h.request(new URL(src, `${h.url}/docs/`).pathname);
      assert.equal(res.status, 200, src);
      if (src.endsWith('.css')) assert.doesNotMatch(await res.text(), /url\(\s*['"]?(?:https?:)?\/\/|@import/, `${src} fetches nothing`);
      else await res.arrayBuffer();
    }
  });

  it("shows Herald's logo, and validates nothing remotely", async () => {
    const init = await (await h.request('/docs/static/swagger-initializer.js')).text();
    const logo = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(init);
    assert.ok(logo, 'the logo is inlined');
    assert.match(Buffer.from(logo[1]!, 'base64').toString('utf8'), />Herald</);
    assert.match(init, /validatorUrl: null/);
    assert.ok(assets().some((a) => a.endsWith('/theme/herald.svg')), "Herald's favicon");
  });

  it('links every guide of docs/ from the description', async () => {
    const doc = (await (await h.request('/openapi.json')).json()) as { info: { description: string } };
    const linked = new Set([...doc.info.description.matchAll(/\]\((docs\/[^)]+\.md)\)/g)].map((m) => m[1]));
    for (const guide of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) assert.ok(linked.has(`docs/${guide}`), `docs/${guide} is linked`);
  });
});
