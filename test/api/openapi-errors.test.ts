// Error answers in the OpenAPI document (issue 10): each status's schema lists the
// errorTypes it carries (src/api/error-types.ts), the table agrees with the code that
// throws them, every operation documents the answers every route can give (400, 431,
// 500, 503, and 401/403/413/414/415/429 where they apply), with Betterez's body on the
// Inventory API's paths, and the lists are documentation only: the bytes sent do not
// depend on them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { ERROR_TYPES } from '../../src/api/error-types.js';
import { STATUS_OF } from '../../src/api/plugins/error-handler.js';
import { ERROR_BODY_SCHEMAS, betterezErrors, errors } from '../../src/api/schemas.js';
import type { ErrorKind } from '../../src/errors.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const KIND_OF_HELPER: Record<string, ErrorKind> = {
  badRequest: 'bad_request',
  unprocessable: 'unprocessable',
  notFound: 'not_found',
  forbidden: 'forbidden',
  unauthorized: 'unauthorized',
  conflict: 'conflict',
};

/** Every `badRequest('X', ...)` and `new HeraldError('kind', 'X', ...)` of src/, as status and errorType. */
function thrownErrorTypes(): { status: number; errorType: string; at: string }[] {
  const out: { status: number; errorType: string; at: string }[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const at = relative(SRC, file);
    for (const m of text.matchAll(/\b(badRequest|unprocessable|notFound|forbidden|unauthorized|conflict)\(\s*'([A-Z][A-Z_]+)'/g)) {
      out.push({ status: STATUS_OF[KIND_OF_HELPER[m[1]!]!], errorType: m[2]!, at });
    }
    for (const m of text.matchAll(/new HeraldError\(\s*'([a-z_]+)',\s*'([A-Z][A-Z_]+)'/g)) {
      out.push({ status: STATUS_OF[m[1] as ErrorKind], errorType: m[2]!, at });
    }
  }
  return out;
}

type Json = Record<string, unknown>;
type Doc = {
  paths: Record<string, Record<string, { operationId: string; security?: Json[]; responses: Record<string, Json> }>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json> };
};

describe('OpenAPI: error answers', () => {
  let h: TestHerald;
  let doc: Doc;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    doc = (await (await h.request('/openapi.json')).json()) as Doc;
  });
  after(() => h?.stop());

  it('documents every errorType the code throws, at the status it is thrown with', () => {
    const thrown = thrownErrorTypes();
    assert.ok(thrown.length > 30, `the scan finds the throw sites (${thrown.length})`);
    const missing = thrown.filter((t) => !ERROR_TYPES.some((e) => e.status === t.status && e.errorType === t.errorType));
    assert.deepEqual(
      missing.map((t) => `${t.status} ${t.errorType} (${t.at})`),
      [],
      'add them to src/api/error-types.ts',
    );
  });

  it('documents no errorType that no code produces', () => {
    const code = sources(SRC)
      .filter((f) => !f.endsWith(join('api', 'error-types.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const stale = ERROR_TYPES.filter((e) => !code.includes(`'${e.errorType}'`)).map((e) => `${e.status} ${e.errorType}`);
    assert.deepEqual(stale, []);
  });

  it("names each status's errorTypes in its error schema, Betterez's code too", () => {
    for (const e of ERROR_TYPES) {
      for (const family of e.on ? [e.on] : (['spec', 'inventory'] as const)) {
        const schema = doc.components.schemas[`${family === 'inventory' ? 'Betterez' : ''}Error${e.status}`];
        assert.ok(schema, `${family} ${e.status}`);
        const [base, narrowed] = schema.allOf as [Json, { properties: Record<string, { enum: string[] }> }];
        assert.equal(base.$ref, `#/components/schemas/${family === 'inventory' ? 'BetterezErrorBody' : 'ErrorBody'}`);
        assert.ok(narrowed.properties.errorType!.enum.includes(e.errorType), `${family} ${e.status} lists ${e.errorType}`);
        if (family === 'inventory') assert.deepEqual(narrowed.properties.code!.enum, narrowed.properties.errorType!.enum);
      }
    }
  });

  it('every operation documents the answers any route can give, in its family body', () => {
    const schemaOf = (response: Json): string => {
      const resolved = typeof response.$ref === 'string' ? doc.components.responses[response.$ref.replace('#/components/responses/', '')]! : response;
      const schema = (resolved.content as Record<string, { schema: Json }>)['application/json']!.schema;
      const ref = (schema.$ref ?? (schema.oneOf as Json[] | undefined)?.[0]?.$ref) as string | undefined;
      return ref?.replace('#/components/schemas/', '') ?? 'inline';
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const at = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses).map(Number);
        for (const s of [400, 431, 500, 503]) assert.ok(statuses.includes(s), `${at} documents ${s}`);
        if ((op.security ?? []).length > 0) assert.ok(statuses.includes(401), `${at} documents 401`);
        if (/\{/.test(path)) assert.ok(statuses.includes(414), `${at} documents 414`);
        if (['post', 'put', 'delete'].includes(method) && op.operationId !== 'createToken') {
          for (const s of [413, 415]) assert.ok(statuses.includes(s), `${at} documents ${s}`);
        }
        if (!/^\/(healthz|readyz)$/.test(path)) assert.ok(statuses.includes(429), `${at} documents 429`);
        const inventory = /^\/(payment-terminals|undelivered)/.test(path);
        for (const s of statuses.filter((x) => x >= 400 && !(op.operationId === 'createToken' && x < 402))) {
          const expected = inventory && s !== 431 ? `BetterezError${s}` : `Error${s}`;
          assert.equal(schemaOf(op.responses[s]!), expected, `${at} ${s}`);
        }
      }
    }
  });

  it('sends the same bytes whatever the errorType: the lists do not reach the serializer', async () => {
    const app = Fastify();
    for (const schema of ERROR_BODY_SCHEMAS) app.addSchema(schema);
    const body = { developerMessage: 'm', errorType: 'NOT_IN_ANY_LIST', violations: [{ propertyName: 'p', developerMessage: 'd' }] };
    const betterez = { code: 'NOT_IN_ANY_LIST', message: 'm', ...body };
    app.get('/spec', { schema: { response: errors(404) } }, async (_req, reply) => reply.status(404).send({ ...body, extra: 1 }));
    app.get('/inventory', { schema: { response: betterezErrors(404) } }, async (_req, reply) => reply.status(404).send(betterez));
    try {
      assert.equal((await app.inject('/spec')).body, JSON.stringify(body));
      assert.equal((await app.inject('/inventory')).body, JSON.stringify(betterez));
    } finally {
      await app.close();
    }
  });
});
