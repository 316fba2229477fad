// Property-based test of EVERY route of Herald's OpenAPI document (issue 13, item 2:
// "500s on bad text and numbers"), on both databases. The routes, their methods, path
// and query parameters, request bodies, security and error bodies are read from the
// running Herald's /openapi.json (plus the hidden /inventory/payment-terminals copies of
// the Inventory API routes); requests are generated from them with fast-check: valid
// values, then hostile ones (U+0000, lone surrogates, numbers beyond 2^53 or 2^63,
// JSON nested 10,000 deep, wrong types, unknown fields, empty and non-JSON bodies,
// undecodable percent-escapes, huge segments), with valid and invalid credentials.
// The property, for every request:
// - never a 5xx, except 500 DESTINATION_RESPONDED_WITH_ERROR_CODE on POST .../subscriptions
//   (the documented case: the destination answered the TestMessage with a non-2xx);
// - every error body has the shape the document gives for that route and status (its
//   errorType among those the status lists): the
//   spec's {developerMessage, errorType, violations}, plus {code, message} on the
//   Inventory API routes (/payment-terminals*, /inventory/payment-terminals*,
//   /undelivered*), RFC 6749's {error, error_description} on POST /token (a status the
//   route does not document: its family's body; a method it does not serve: the spec's,
//   with code and message under the Inventory API's paths; a 431 from Node's HTTP parser,
//   before any route is known: the spec's);
// - on any non-2xx, nothing stored changed: every table of the public schema has the
//   same contents before and after.
// A fixed list of known-bad requests (the issue's 500s) and one plain request per route go
// first, then the generated ones. Every violation is collected; the test fails at the end
// with each distinct one (route, trigger, status, error type) and an exact request to
// reproduce it. HERALD_PROPERTY_RUNS and HERALD_PROPERTY_SEED override the run count and seed.
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { newUuidV1 } from '../../src/domain/ids.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { PUSHER_EXAMPLES } from '../fixtures/spec-payloads.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { storeTables } from '../helpers/store-contents.js';

const RUNS = Number(process.env.HERALD_PROPERTY_RUNS ?? 400);
const SEED = Number(process.env.HERALD_PROPERTY_SEED ?? 1302);
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

// ---------------------------------------------------------------------------------------
// The OpenAPI document, as operations.

type Schema = Record<string, unknown>;
type Security = 'none' | 'bearer' | 'admin' | 'inventory';
type Family = 'spec' | 'inventory' | 'oauth';

interface Param {
  name: string;
  schema: Schema;
}

interface Operation {
  /** e.g. POST */
  method: string;
  /** e.g. /organizations/{organizationUuid}/products/{productUuid} */
  template: string;
  security: Security;
  family: Family;
  path: Param[];
  query: Param[];
  headers: Param[];
  body?: { contentType: string; schema: Schema; example?: unknown };
  /** The documented error body of each status (refs resolved). */
  errors: Map<number, Schema>;
  /** The error body of a status the operation does not document. */
  defaultError: Schema;
}

const label = (op: Operation) => `${op.method} ${op.template}`;
const isInventoryPath = (p: string) => /^\/(inventory\/)?payment-terminals(\/|$|\?)|^\/undelivered(\/|$|\?)/.test(p);

function operationsOf(doc: Schema): { ops: Operation[]; specError: Schema; inventoryError: Schema } {
  const components = ((doc.components as Schema | undefined)?.schemas ?? {}) as Record<string, Schema>;
  const deref = (s: Schema): Schema => {
    const ref = s.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) return deref(components[ref.slice('#/components/schemas/'.length)] ?? {});
    return s;
  };
  /**
   * One schema for an allOf (the error schemas: ErrorBody, its errorType narrowed):
   * properties merged, required joined, so the shape check sees every property.
   */
  const mergeAllOf = (s: Schema): Schema => {
    const { allOf, ...rest } = s;
    const parts = [rest, ...(allOf as Schema[])];
    const properties: Record<string, Schema> = {};
    for (const p of parts) for (const [k, v] of Object.entries((p.properties ?? {}) as Record<string, Schema>)) properties[k] = { ...properties[k], ...v };
    const type = parts.map((p) => p.type).find((t) => t !== undefined);
    return { ...Object.assign({}, ...parts), type, properties, required: [...new Set(parts.flatMap((p) => (p.required ?? []) as string[]))] } as Schema;
  };
  /** Resolves every $ref of a schema (the documents' schemas are not recursive). */
  const resolveAll = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(resolveAll);
    if (s === null || typeof s !== 'object') return s;
    const d = deref(s as Schema);
    const resolved = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, resolveAll(v)])) as Schema;
    return Array.isArray(resolved.allOf) ? mergeAllOf(resolved) : resolved;
  };
  /** A response, its `#/components/responses/` reference followed (the errors every route shares). */
  const sharedResponses = ((doc.components as Schema | undefined)?.responses ?? {}) as Record<string, Schema>;
  const responseOf = (r: Schema): Schema =>
    typeof r.$ref === 'string' && r.$ref.startsWith('#/components/responses/') ? (sharedResponses[r.$ref.slice('#/components/responses/'.length)] ?? {}) : r;
  const byTitle = (title: string) => {
    // Shared schemas are named by their $id (src/api/plugins/openapi.ts).
    const s = components[title] ?? Object.values(components).find((c) => c.title === title);
    assert.ok(s, `openapi.json has no ${title} schema`);
    return resolveAll(s) as Schema;
  };
  const specError = byTitle('ErrorBody');
  const inventoryError = byTitle('BetterezErrorBody');

  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const [m, op] of Object.entries(methods)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(m)) continue;
      const params = ((op.parameters ?? []) as (Schema & { in: string; name: string; schema?: Schema })[]).map((p) => ({
        in: p.in,
        name: p.name,
        schema: resolveAll(p.schema ?? {}) as Schema,
      }));
      const secNames = ((op.security ?? []) as Record<string, unknown>[]).flatMap((s) => Object.keys(s));
      const security: Security = secNames.includes('admin') ? 'admin' : secNames.includes('apiKey') ? 'inventory' : secNames.includes('bearer') ? 'bearer' : 'none';
      const family: Family = template === '/token' ? 'oauth' : isInventoryPath(template) ? 'inventory' : 'spec';
      const errors = new Map<number, Schema>();
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Schema>).map(([s, x]) => [s, responseOf(x)] as const)) {
        const schema = ((r.content as Record<string, Schema> | undefined)?.['application/json'] as Schema | undefined)?.schema;
        if (Number(status) >= 400 && schema) errors.set(Number(status), resolveAll(schema) as Schema);
      }
      const content = (op.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined;
      const contentType = content ? Object.keys(content)[0] : undefined;
      const body = contentType
        ? { contentType, schema: resolveAll(content![contentType]!.schema ?? {}) as Schema, example: content![contentType]!.example }
        : undefined;
      ops.push({
        method: m.toUpperCase(),
        template,
        security,
        family,
        path: params.filter((p) => p.in === 'path'),
        query: params.filter((p) => p.in === 'query'),
        headers: params.filter((p) => p.in === 'header'),
        body,
        errors,
        defaultError: family === 'oauth' ? [...errors.values()][0]! : family === 'inventory' ? inventoryError : specError,
      });
    }
  }
  // The Inventory API's payment terminals are served under /inventory too (hidden from the document).
  for (const op of ops.filter((o) => o.template.startsWith('/payment-terminals'))) {
    ops.push({ ...op, template: `/inventory${op.template}` });
  }
  return { ops, specError, inventoryError };
}

/** Where a value breaks a (resolved) schema; object keys must be among its properties. */
function shapeProblems(v: unknown, s: Schema, at = 'body'): string[] {
  const type = s.type;
  if (type === 'object') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`${at} is not an object`];
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const out: string[] = [];
    for (const k of (s.required ?? []) as string[]) if (!(k in (v as object))) out.push(`${at}.${k} is missing`);
    for (const [k, x] of Object.entries(v as object)) {
      if (props[k]) out.push(...shapeProblems(x, props[k], `${at}.${k}`));
      else out.push(`${at}.${k} is not in the documented shape`);
    }
    return out;
  }
  if (type === 'array') {
    if (!Array.isArray(v)) return [`${at} is not an array`];
    return v.flatMap((x, i) => (s.items ? shapeProblems(x, s.items as Schema, `${at}.${i}`) : []));
  }
  if (type === 'string' && typeof v !== 'string') return [`${at} is not a string`];
  if (type === 'integer' && !Number.isInteger(v)) return [`${at} is not an integer`];
  // The errorTypes (and Betterez's codes) each status lists.
  if (Array.isArray(s.enum) && !s.enum.includes(v)) return [`${at} is ${JSON.stringify(v)}, not one of the documented ${s.enum.join(', ')}`];
  return [];
}

// ---------------------------------------------------------------------------------------
// Generated values: JSON trees that may hold raw JSON text and references to live rows.

/** JSON text written as is (numbers JSON.parse cannot hold exactly, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
}
/** A value of the server's current state: column `col` of row `pick` (modulo) of a pool. */
class Live {
  constructor(
    readonly pool: PoolName,
    readonly pick: number,
    readonly col = 0,
  ) {}
}

type PoolName =
  | 'org'
  | 'otherOrg'
  | 'subscription'
  | 'message' // [messageId, subscriptionUuid]
  | 'pv' // [productUuid, variantUuid]
  | 'tracked' // [productUuid, variantUuid] of tracked products
  | 'purchase'
  | 'terminal'
  | 'undelivered'
  | 'apiKey'
  | 'connection'
  | 'location'
  | 'mainKey';
type Pools = Record<PoolName, string[][]>;

const DEEP_ARRAY = '['.repeat(10_000) + ']'.repeat(10_000);
const DEEP_OBJECT = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Live);

/** Sets an own enumerable property, even `__proto__`. */
function define(o: Record<string, unknown>, k: string, v: unknown) {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isPlain(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) define(o, k, clone(x));
    return o;
  }
  return v;
}

type Step = string | number;
interface Node {
  path: Step[];
  v: unknown;
}
function nodesOf(v: unknown, path: Step[] = [], out: Node[] = []): Node[] {
  out.push({ path, v });
  if (Array.isArray(v)) v.forEach((x, i) => nodesOf(x, [...path, i], out));
  else if (isPlain(v)) for (const [k, x] of Object.entries(v)) nodesOf(x, [...path, k], out);
  return out;
}
/** A copy of root with the node at path replaced (or removed, with `remove`). */
function setAt(root: unknown, path: Step[], value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy = clone(root);
  let cur = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) cur = cur[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (Array.isArray(cur)) {
    if (remove) cur.splice(last as number, 1);
    else cur[last as number] = value;
  } else if (remove) delete cur[last];
  else define(cur, String(last), value);
  return copy;
}

function resolveLive(l: Live, pools: Pools): string {
  const rows = pools[l.pool];
  const row = rows.length > 0 ? rows[l.pick % rows.length]! : undefined;
  return row?.[l.col] ?? FALLBACK[l.pool];
}
const FALLBACK: Record<PoolName, string> = {
  org: '00000000-0000-1000-8000-000000000000',
  otherOrg: '00000000-0000-1000-8000-000000000001',
  subscription: '00000000-0000-1000-8000-000000000002',
  message: '00000000-0000-1000-8000-000000000003',
  pv: '00000000-0000-1000-8000-000000000004',
  tracked: '00000000-0000-1000-8000-00000000000b',
  purchase: '00000000-0000-1000-8000-000000000005',
  terminal: '000000000000000000000006',
  undelivered: '000000000000000000000007',
  apiKey: '00000000-0000-1000-8000-000000000008',
  connection: '00000000-0000-1000-8000-000000000009',
  location: '00000000-0000-1000-8000-00000000000a',
  mainKey: 'no-key',
};

/** JSON text; lone surrogates come out as \ud800 escapes (JSON.stringify's well-formed output). */
function jsonText(v: unknown, pools: Pools): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Live) return JSON.stringify(resolveLive(v, pools));
  if (Array.isArray(v)) return `[${v.map((x) => jsonText(x, pools)).join(',')}]`;
  if (isPlain(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x, pools)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Percent-encodes UTF-8 bytes outside the unreserved set (a lone surrogate becomes U+FFFD's bytes). */
function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** application/x-www-form-urlencoded; Raw values go verbatim (e.g. %ED%A0%80). */
function formText(v: unknown, pools: Pools): string {
  if (!isPlain(v)) return jsonText(v, pools);
  const enc = (x: unknown): string =>
    x instanceof Raw ? x.text : x instanceof Live ? pct(resolveLive(x, pools)) : pct(typeof x === 'string' ? x : jsonText(x, pools));
  return Object.entries(v)
    .flatMap(([k, x]) => (Array.isArray(x) ? x.map((y) => `${pct(k)}=${enc(y)}`) : [`${pct(k)}=${enc(x)}`]))
    .join('&');
}

// ---------------------------------------------------------------------------------------
// The generated request, symbolic where it depends on the server's state.

type Seg = { k: 'live'; pool: PoolName; pick: number; upper?: boolean } | { k: 'raw'; s: string; hostile?: boolean };
type Auth =
  | 'key' // Bearer <all-scope API key>
  | 'token' // Bearer <access token of that key>
  | 'xkey' // x-api-key: <key> (Inventory API routes)
  | 'both' // both headers
  | 'mismatch' // Bearer <key> and x-api-key of another organization
  | 'admin'
  | 'none'
  | 'revoked'
  | { raw: string };
type Body =
  | { k: 'none' }
  | { k: 'json'; v: unknown } // written with jsonText
  | { k: 'form'; v: unknown } // written with formText
  | { k: 'text'; text: string }
  | { k: 'bytes'; bytes: number[] };

interface GenRequest {
  op: Operation;
  method: string;
  auth: Auth;
  segs: Record<string, Seg>;
  query: [string, string][]; // name and value, both already percent-encoded
  headers: [string, string][];
  body: Body;
  /** Content-Type, when not the one the body calls for. */
  contentType?: string | null;
  /** What is hostile in it (the failure report's "trigger"). */
  tags: string[];
  /** For the fixed cases: what the issue calls it. */
  name?: string;
}

interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function toWire(g: GenRequest, pools: Pools, creds: Creds): WireRequest {
  // A live message picks its subscription too, so that both exist together.
  let messageSub: string | undefined;
  const segOf = (name: string): string => {
    const s = g.segs[name];
    if (!s) return FALLBACK.subscription;
    if (s.k === 'raw') return s.s;
    if (name === 'subscriptionUuid' && s.pool === 'subscription' && messageSub) return s.upper ? messageSub.toUpperCase() : messageSub;
    const v = resolveLive(new Live(s.pool, s.pick), pools);
    if (s.pool === 'message') messageSub = resolveLive(new Live('message', s.pick, 1), pools);
    return s.upper ? v.toUpperCase() : v;
  };
  if (g.segs.messageId) segOf('messageId');
  const path = g.op.template.replace(/\{([^}]+)\}/g, (_m, name: string) => segOf(name));
  const query = g.query.length > 0 ? `?${g.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '';

  const headers: Record<string, string> = {};
  const a = g.auth;
  if (typeof a === 'object') headers.authorization = a.raw;
  else if (a === 'key') headers.authorization = creds.main.auth;
  else if (a === 'token') headers.authorization = `Bearer ${creds.accessToken}`;
  else if (a === 'xkey') headers['x-api-key'] = creds.main.apiKey;
  else if (a === 'both') Object.assign(headers, { authorization: creds.main.auth, 'x-api-key': creds.main.apiKey });
  else if (a === 'mismatch') Object.assign(headers, { authorization: creds.main.auth, 'x-api-key': creds.other.apiKey });
  else if (a === 'admin') headers.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
  else if (a === 'revoked') headers.authorization = creds.revoked.auth;
  for (const [k, v] of g.headers) headers[k] = v;

  let body: Buffer | undefined;
  let ct: string | null = null;
  switch (g.body.k) {
    case 'none':
      break;
    case 'json':
      body = Buffer.from(jsonText(g.body.v, pools), 'utf8');
      ct = 'application/json';
      break;
    case 'form':
      body = Buffer.from(formText(g.body.v, pools), 'utf8');
      ct = 'application/x-www-form-urlencoded';
      break;
    case 'text':
      body = Buffer.from(g.body.text, 'utf8');
      ct = 'application/json';
      break;
    case 'bytes':
      body = Buffer.from(g.body.bytes);
      ct = 'application/json';
      break;
  }
  if (g.contentType !== undefined) ct = g.contentType;
  if (ct !== null) headers['content-type'] = ct;
  return { method: g.method, path: `${path}${query}`, headers, body };
}

// ---------------------------------------------------------------------------------------
// Sending (a fresh connection per request, as in subscriptions.property.test.ts).

interface WireResponse {
  status: number;
  text: string;
}

function send(agent: Agent, port: number, req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    const r = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 20 s')));
    r.on('error', reject);
    r.end(req.body);
  });
}

const short = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);
/** The text as a JSON string: U+0000 and lone surrogates show as \u0000 and \ud800 escapes. */
const shown = (s: string) => JSON.stringify(s);

function describeWire(w: WireRequest): string {
  const auth = w.headers.authorization;
  const headers = { ...w.headers, ...(auth ? { authorization: short(auth, 40) } : {}), ...(w.headers['x-api-key'] ? { 'x-api-key': short(w.headers['x-api-key'], 20) } : {}) };
  return `${w.method} ${short(w.path, 300)}\n    headers: ${short(JSON.stringify(headers), 300)}\n    body: ${w.body ? short(shown(w.body.toString('utf8')), 600) : '(none)'}`;
}

// ---------------------------------------------------------------------------------------
// Credentials and state of one Herald.

interface Creds {
  main: TestCredential;
  other: TestCredential;
  revoked: TestCredential;
  accessToken: string;
}

// ---------------------------------------------------------------------------------------
// Hostile inputs.

/** Path segments, already percent-encoded as sent. */
const HOSTILE_SEGMENTS = [
  '%00',
  'a%00b',
  '%ED%A0%80', // a lone surrogate in UTF-8 form (invalid UTF-8)
  '%ED%B0%80',
  '%C0%80', // overlong NUL
  '%FF',
  '%zz',
  '%',
  '..',
  '%2e%2e',
  '.',
  '%2F',
  '%20',
  '%E2%80%AE',
  pct('é'),
  pct('😀'),
  pct('Ω≈ç√'),
  '9223372036854775808',
  '-1',
  '0',
  '1e309',
  'NaN',
  'null',
  'self',
  'SELF',
  '{00000000-0000-1000-8000-000000000000}',
  'ffffffffffffffffffffffff',
  'FFFFFFFFFFFFFFFFFFFFFFFF',
  '7fffffffffffffffffffffff',
  '000000000000000000000000',
  '00000000000000000020000000000000',
  'x'.repeat(300),
  'x'.repeat(5000),
  '1'.repeat(24 * 40),
];
const HOSTILE_QUERY_VALUES = [
  '9223372036854775808',
  '9223372036854775807',
  '-9223372036854775809',
  '9007199254740993',
  '-1',
  '0',
  '1e309',
  '1e20',
  '-1e20',
  '1.5',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '%201',
  '9'.repeat(400),
  '%00',
  '1%00',
  '%ED%A0%80',
  '%zz',
  '',
  'abc',
  'true',
  '[]',
  pct('😀'),
];
/** Strings a database cannot store, or that break a naive encoder. */
const NASTY_TEXT = ['\u0000', 'a\u0000b', 'name\u0000', '\ud800', 'x\udc00y', '\udbff', '\ud800\u0000', '\uffff', '\ufeff', 'é\u0000😀'];
const NASTY_NUMBERS: unknown[] = [
  new Raw('9007199254740993'),
  1e20,
  -1e20,
  1.5,
  -1,
  new Raw('9223372036854775808'),
  new Raw('-9223372036854775809'),
  new Raw('1e309'),
  new Raw('-1e309'),
  new Raw('1' + '0'.repeat(400)),
  new Raw('-0'),
  2 ** 53,
  2 ** 31,
  2 ** 63,
];
const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, 'x', '', [], {}, [null], { a: 1 }, '1', new Raw('1e309')];
const EXTRA_KEYS = ['unknownField', '__proto__', 'constructor', 'prototype', 'id', '_id', 'organizationUuid', 'k\u0000', '\ud800', ''];

// ---------------------------------------------------------------------------------------
// The suite.

for (const backend of testDatabases()) {
  describe(`OpenAPI routes, property-based: ${backend.name}`, () => {
    let h: TestHerald;
    let receiver: TestReceiver;
    let agent: Agent;
    let port: number;
    let creds: Creds;
    let ops: Operation[];
    let specError: Schema;
    let inventoryError: Schema;
    let tables: string[];

    before(async () => {
      receiver = await startReceiver();
      // API only; a destination that hangs cannot hold a request long.
      h = await startTestHerald(backend, { config: { deliveryTimeoutMs: 3000 } });
      port = Number(new URL(h.url).port);
      agent = new Agent({ keepAlive: false });
      const docRes = await h.request('/openapi.json');
      assert.equal(docRes.status, 200);
      ({ ops, specError, inventoryError } = operationsOf((await docRes.json()) as Schema));

      const main = await createCredential(h, ALL_SCOPES);
      const other = await createCredential(h, ALL_SCOPES);
      const revoked = await createCredential(h, ALL_SCOPES, { organizationUuid: main.organizationUuid });
      const rv = await h.admin(`/admin/organizations/${main.organizationUuid}/api-keys/${revoked.apiKeyId}`, { method: 'DELETE' });
      assert.equal(rv.status, 204, await rv.text());
      // Keys DELETE .../api-keys/{apiKeyId} may revoke (the main key is never offered to it).
      for (let i = 0; i < 2; i++) await createCredential(h, ['READ:PRODUCT'], { organizationUuid: main.organizationUuid });
      const tok = await h.request('/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: main.apiKey }).toString(),
      });
      assert.equal(tok.status, 200, await tok.clone().text());
      const accessToken = ((await tok.json()) as { access_token: string }).access_token;
      creds = { main, other, revoked, accessToken };

      // State every route can name: a subscription to the receiver, an app connection, a
      // product (its events are messages of the subscription), tracking, a purchase, a terminal.
      const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = { authorization: main.auth }) => {
        const r = await h.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
        const text = await r.text();
        assert.ok(r.status >= 200 && r.status < 300, `setup ${method} ${path}: ${r.status} ${text}`);
        return JSON.parse(text) as Record<string, unknown>;
      };
      const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      await call('POST', '/organizations/self/subscriptions', {
        uuid: newUuidV1(),
        transportName: 'WEBHOOK',
        eventNames: [],
        destination: receiver.url,
        contactEmail: 'ops@example.com',
      });
      await call('POST', `/admin/organizations/${main.organizationUuid}/app-connections`, { clientId: 'fuzz-client', scopes: ALL_SCOPES }, admin);
      const product = await call('POST', '/organizations/self/products', {
        name: 'Tea',
        variants: [{ name: 'Mug', price: { amount: 2500, currencyId: 'SEK' } }],
      });
      const variant = (product.variants as { uuid: string }[])[0]!.uuid;
      await call('POST', '/organizations/self/inventory/tracking', { productUuid: product.uuid });
      await call('POST', '/organizations/self/purchases', purchase(product.uuid as string, variant, 2500));
      await call('POST', '/payment-terminals', { paymentTerminal: terminal('Setup terminal') });

      tables = await storeTables(h.db);
      assert.ok(tables.length >= 10, `only ${tables.length} tables`);
    });
    after(async () => {
      agent?.destroy();
      await receiver?.close();
      await h?.stop();
    });

    /** Every table's row count and the md5 of its sorted rows: equal snapshots, nothing stored changed. */
    async function snapshot(): Promise<Record<string, string>> {
      const cols = tables.map((t) => `(select count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from "${t}" x) as "${t}"`);
      const r = await h.db.query<Record<string, string>>(`select ${cols.join(', ')}`);
      return r.rows[0]!;
    }

    async function poolsNow(): Promise<Pools> {
      const org = creds.main.organizationUuid;
      const r = await h.db.query<{ p: string }>(
        `select json_build_object(
           'subscription', (select coalesce(json_agg(json_build_array(uuid::text) order by id), '[]') from subscriptions where organization_uuid = $1 and deleted_at is null),
           'message', (select coalesce(json_agg(json_build_array(e.message_id, s.uuid::text) order by d.id), '[]')
                       from deliveries d join events e on e.id = d.event_id join subscriptions s on s.id = d.subscription_id
                       where s.organization_uuid = $1 and s.deleted_at is null),
           'pv', (select coalesce(json_agg(json_build_array(p.uuid::text, v->>'uuid') order by p.created_at), '[]')
                  from products p cross join lateral jsonb_array_elements(p.document->'variants') v where p.organization_uuid = $1 and p.deleted_at is null),
           'tracked', (select coalesce(json_agg(json_build_array(p.uuid::text, v->>'uuid') order by p.created_at), '[]')
                       from products p join inventory_tracking t on t.organization_uuid = p.organization_uuid and t.product_uuid = p.uuid
                       cross join lateral jsonb_array_elements(p.document->'variants') v where p.organization_uuid = $1 and p.deleted_at is null),
           'purchase', (select coalesce(json_agg(json_build_array(uuid::text) order by purchase_number), '[]') from purchases where organization_uuid = $1),
           'terminal', (select coalesce(json_agg(json_build_array(id) order by created_at), '[]') from payment_terminals where organization_uuid = $1),
           'undelivered', (select coalesce(json_agg(json_build_array(lpad(to_hex(d.id), 24, '0')) order by d.id), '[]')
                           from deliveries d join subscriptions s on s.id = d.subscription_id
                           where s.organization_uuid = $1 and s.deleted_at is null and d.state in ('pending', 'failed')),
           'apiKey', (select coalesce(json_agg(json_build_array(id::text) order by created_at), '[]') from api_keys where organization_uuid = $1 and id <> $2::uuid and revoked_at is null),
           'connection', (select coalesce(json_agg(json_build_array(id::text) order by created_at), '[]') from app_connections where organization_uuid = $1),
           'location', (select coalesce(json_agg(json_build_array(uuid::text) order by created_at), '[]') from locations where organization_uuid = $1)
         )::text as p`,
        [org, creds.main.apiKeyId],
      );
      const p = JSON.parse(r.rows[0]!.p) as Omit<Pools, 'org' | 'otherOrg' | 'mainKey'>;
      return { ...p, org: [[org]], otherOrg: [[creds.other.organizationUuid]], mainKey: [[creds.main.apiKey]] };
    }

    it('never a 5xx (but the destination case), always the documented error body, nothing stored on a failure', async () => {
      const eventNames = EVENT_TYPES.map((e) => e.name);
      const examples = Object.values(PUSHER_EXAMPLES);
      const hex24 = fc.stringMatching(/^[0-9a-f]{24}$/);
      const live = (pool: PoolName, col = 0) => fc.nat().map((pick) => new Live(pool, pick, col));

      // ---- values of a schema, with hints by property name so that requests get past validation ----
      const HINTS: Record<string, fc.Arbitrary<unknown>> = {
        destination: fc.constant(receiver.url),
        contactEmail: fc.constantFrom('ops@example.com', 'a.b+c@example.org'),
        transportName: fc.constant('WEBHOOK'),
        eventNames: fc.subarray(eventNames, { maxLength: 4 }),
        uuid: fc.uuid({ version: 1 }),
        externalUuid: fc.uuid({ version: 1 }),
        purchaseUuid: fc.uuid({ version: 1 }),
        productUuid: live('pv', 0),
        variantUuid: live('pv', 1),
        locationUuid: live('location'),
        ip: fc.constantFrom('192.168.10.10', '10.0.0.1', '::1', '2001:db8::1'),
        protocol: fc.constantFrom('ws', 'wss'),
        locationId: hex24,
        partNumber: fc.nat(99_999).map((n) => `TRD${n}`),
        serialNumber: fc.nat().map((n) => `SN${n}`),
        eventName: fc.constantFrom(...eventNames),
        payload: fc.constantFrom(...examples.map((e) => e.payload)),
        scopes: fc.subarray(ALL_SCOPES, { minLength: 1 }),
        grant_type: fc.constantFrom(JWT_BEARER_GRANT, 'refresh_token'),
        assertion: fc.constant(new Live('mainKey', 0)),
        client_id: fc.uuid(),
        currencyId: fc.constant('SEK'),
        currency: fc.constant('SEK'),
        country: fc.constant('SE'),
        quantity: fc.constantFrom('1', '2', '0.5'),
        balance: fc.constantFrom('10', '0', '2.5'),
        change: fc.constantFrom('1', '-1', '0.5'),
      };
      const fromSchema = (s: Schema, name?: string): fc.Arbitrary<unknown> => {
        const plain = plainFromSchema(s);
        const hint = name === undefined ? undefined : HINTS[name];
        return hint ? fc.oneof({ weight: 4, arbitrary: hint }, { weight: 1, arbitrary: plain }) : plain;
      };
      const plainFromSchema = (s: Schema): fc.Arbitrary<unknown> => {
        if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as Schema[]).map((c) => fromSchema(c)));
        if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
        if ('const' in s) return fc.constant(s.const);
        const type = Array.isArray(s.type) ? (s.type[0] as string) : (s.type as string | undefined);
        const min = (k: string, d: number) => (typeof s[k] === 'number' ? (s[k] as number) : d);
        switch (type) {
          case 'object': {
            const props = (s.properties ?? {}) as Record<string, Schema>;
            const model: Record<string, fc.Arbitrary<unknown>> = {};
            for (const [k, c] of Object.entries(props)) model[k] = fromSchema(c, k);
            if (Object.keys(model).length === 0) return fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
            const required = ((s.required ?? []) as string[]).filter((k) => k in model);
            return fc.record(model, { requiredKeys: required }) as fc.Arbitrary<unknown>;
          }
          case 'array': {
            const minLength = Math.min(min('minItems', 0), 2);
            return fc.array(s.items ? fromSchema(s.items as Schema) : fc.jsonValue({ maxDepth: 1 }), { minLength, maxLength: Math.max(minLength, Math.min(min('maxItems', 3), 3)) });
          }
          case 'string': {
            if (s.format === 'uuid') return fc.uuid({ version: 1 });
            const maxLength = Math.min(min('maxLength', 24), 24);
            const minLength = Math.min(min('minLength', 0), maxLength);
            if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern), { size: 'xsmall' }).filter((x) => x.length <= min('maxLength', 1e9));
            return fc.string({ minLength, maxLength });
          }
          case 'integer':
            return fc.integer({ min: Math.max(min('minimum', -1e6), -1e6), max: Math.min(min('maximum', 1e6), 1e6) });
          case 'number':
            return fc.double({ min: Math.max(min('minimum', -1e6), -1e6), max: Math.min(min('maximum', 1e6), 1e6), noNaN: true, noDefaultInfinity: true });
          case 'boolean':
            return fc.boolean();
          case 'null':
            return fc.constant(null);
          default:
            return fc.jsonValue({ maxDepth: 2 });
        }
      };

      // ---- bodies known to be valid (most routes' rules go beyond their schemas) ----
      const terminalArb = fc.record({ n: fc.nat(), ip: HINTS.ip!, protocol: HINTS.protocol!, locationId: hex24 }).map(({ n, ip, protocol, locationId }) => ({
        paymentTerminal: { ...terminal(`Terminal ${n}`), ip, protocol, locationId },
      }));
      const productArb = fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), amount: fc.nat(1_000_000) }).map(({ name, amount }) => ({
        name,
        description: 'A product',
        categories: ['Drinks'],
        variants: [{ name: 'Mug', sku: 'SKU-1', price: { amount, currencyId: 'SEK' }, costPrice: { amount: 100, currencyId: 'SEK' } }],
        vatPercentage: 25,
      }));
      const TEMPLATES: Record<string, fc.Arbitrary<unknown>> = {
        'POST /organizations/{organizationUuid}/subscriptions': fc.record({
          uuid: fc.uuid({ version: 1 }),
          transportName: fc.constant('WEBHOOK'),
          eventNames: HINTS.eventNames!,
          destination: fc.constant(receiver.url),
          contactEmail: HINTS.contactEmail!,
        }),
        'PUT /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}': fc.record(
          { eventNames: HINTS.eventNames!, contactEmail: HINTS.contactEmail!, destination: fc.constant(receiver.url) },
          { requiredKeys: [] },
        ),
        'POST /organizations/{organizationUuid}/products': productArb,
        'PUT /organizations/{organizationUuid}/products/{productUuid}': productArb,
        'POST /organizations/{organizationUuid}/inventory/tracking': fc.record({ productUuid: live('pv', 0) }),
        'PUT /organizations/{organizationUuid}/inventory/balances': fc
          .tuple(fc.nat(), fc.boolean(), fc.constantFrom('10', '3', '0.5'))
          .map(([pick, set, n]) => ({ changes: [{ productUuid: new Live('tracked', pick, 0), variantUuid: new Live('tracked', pick, 1), ...(set ? { balance: n } : { change: n }) }] })),
        'POST /organizations/{organizationUuid}/purchases': fc.tuple(fc.nat(), fc.nat(100_000)).map(([pick, price]) => purchase(new Live('pv', pick, 0), new Live('pv', pick, 1), price)),
        'PUT /organizations/{organizationUuid}': fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), city: fc.string({ maxLength: 20 }), country: fc.constant('SE'), currency: fc.constant('SEK') }),
        'POST /payment-terminals': terminalArb,
        'PUT /payment-terminals/{paymentTerminalId}': terminalArb,
        'POST /inventory/payment-terminals': terminalArb,
        'PUT /inventory/payment-terminals/{paymentTerminalId}': terminalArb,
        'POST /admin/organizations': fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }) }),
        'POST /admin/organizations/{organizationUuid}/events': fc
          .tuple(fc.constantFrom(...examples), fc.option(fc.uuid(), { nil: undefined }))
          .map(([e, messageId]) => ({ eventName: e.eventName, payload: e.payload, ...(messageId ? { messageId } : {}) })),
        'POST /admin/organizations/{organizationUuid}/api-keys': fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), scopes: HINTS.scopes! }),
        'POST /admin/organizations/{organizationUuid}/app-connections': fc.record({ clientId: fc.string({ minLength: 1, maxLength: 20 }), scopes: HINTS.scopes! }),
        'POST /token': fc.constant({ grant_type: JWT_BEARER_GRANT, assertion: new Live('mainKey', 0) }),
      };

      // ---- mutations of a JSON value ----
      type Mutation =
        | { m: 'text'; pick: number; s: string }
        | { m: 'number'; pick: number; n: unknown }
        | { m: 'type'; pick: number; v: unknown }
        | { m: 'extra'; pick: number; key: string; v: unknown }
        | { m: 'remove'; pick: number }
        | { m: 'deep'; pick: number; raw: string };
      const mutation: fc.Arbitrary<Mutation> = fc.oneof(
        { weight: 5, arbitrary: fc.record({ m: fc.constant('text' as const), pick: fc.nat(), s: fc.constantFrom(...NASTY_TEXT) }) },
        { weight: 4, arbitrary: fc.record({ m: fc.constant('number' as const), pick: fc.nat(), n: fc.constantFrom(...NASTY_NUMBERS) }) },
        { weight: 2, arbitrary: fc.record({ m: fc.constant('type' as const), pick: fc.nat(), v: fc.constantFrom(...WRONG_TYPES) }) },
        {
          weight: 2,
          arbitrary: fc.record({
            m: fc.constant('extra' as const),
            pick: fc.nat(),
            key: fc.constantFrom(...EXTRA_KEYS),
            v: fc.oneof(fc.constantFrom(...NASTY_TEXT), fc.constantFrom(...NASTY_NUMBERS), fc.constantFrom(...WRONG_TYPES)),
          }),
        },
        { weight: 1, arbitrary: fc.record({ m: fc.constant('remove' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ m: fc.constant('deep' as const), pick: fc.nat(), raw: fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT) }) },
      );
      const kindOfText = (s: string) => (s.includes('\u0000') ? 'U+0000' : /[\ud800-\udfff]/.test(s) ? 'lone surrogate' : 'odd text');
      /** Applies a mutation; returns the new value and what it did. */
      const mutate = (v: unknown, mu: Mutation): [unknown, string] => {
        const all = nodesOf(v);
        const at = (p: Step[]) => (p.length === 0 ? '(body)' : p.join('.'));
        const pick = <T>(xs: T[]): T | undefined => (xs.length === 0 ? undefined : xs[mu.pick % xs.length]);
        const objects = all.filter((n) => isPlain(n.v));
        switch (mu.m) {
          case 'text': {
            const n = pick(all.filter((x) => typeof x.v === 'string' || x.v instanceof Live));
            if (n) return [setAt(v, n.path, n.v instanceof Live ? mu.s : `${mu.s}${String(n.v).slice(0, 8)}`), `body ${at(n.path)}: ${kindOfText(mu.s)}`];
            const o = pick(objects);
            return o ? [setAt(v, [...o.path, 'name'], mu.s), `body ${at([...o.path, 'name'])}: ${kindOfText(mu.s)}`] : [v, 'none'];
          }
          case 'number': {
            const n = pick(all.filter((x) => typeof x.v === 'number'));
            const what = mu.n instanceof Raw ? mu.n.text : String(mu.n);
            return n ? [setAt(v, n.path, mu.n), `body ${at(n.path)}: number ${short(what, 24)}`] : [v, 'none'];
          }
          case 'type': {
            const n = pick(all.filter((x) => x.path.length > 0));
            return n ? [setAt(v, n.path, mu.v), `body ${at(n.path)}: wrong type`] : [mu.v, 'body: wrong type'];
          }
          case 'extra': {
            const o = pick(objects);
            return o ? [setAt(v, [...o.path, mu.key], mu.v), `body ${at([...o.path, mu.key])}: unknown field`] : [v, 'none'];
          }
          case 'remove': {
            const n = pick(all.filter((x) => x.path.length > 0));
            return n ? [setAt(v, n.path, undefined, true), `body ${at(n.path)}: removed`] : [v, 'none'];
          }
          case 'deep': {
            const n = pick(all.filter((x) => x.path.length > 0));
            return n ? [setAt(v, n.path, new Raw(mu.raw)), `body ${at(n.path)}: nested 10,000 deep`] : [new Raw(mu.raw), 'body: nested 10,000 deep'];
          }
        }
      };
      const coarse = (tag: string) => tag.replace(/^body [^:]+:/, 'body:').replace(/number .*/, 'huge/odd number');

      /** Whole bodies that are no JSON object at all. */
      const junkBody: fc.Arbitrary<[Body, string]> = fc.oneof(
        fc.constantFrom<[Body, string]>(
          [{ k: 'text', text: '' }, 'empty body'],
          [{ k: 'text', text: '{' }, 'non-JSON body'],
          [{ k: 'text', text: 'garbage' }, 'non-JSON body'],
          [{ k: 'text', text: "{'a':1}" }, 'non-JSON body'],
          [{ k: 'text', text: '{"a":1}trailing' }, 'non-JSON body'],
          [{ k: 'text', text: '\ufeff{}' }, 'non-JSON body'],
          [{ k: 'text', text: 'NaN' }, 'non-JSON body'],
          [{ k: 'text', text: 'null' }, 'body: wrong type'],
          [{ k: 'text', text: '[]' }, 'body: wrong type'],
          [{ k: 'text', text: '"x"' }, 'body: wrong type'],
          [{ k: 'text', text: '12' }, 'body: wrong type'],
          [{ k: 'text', text: '{"__proto__":{"x":1}}' }, 'body: prototype key'],
          [{ k: 'text', text: DEEP_ARRAY }, 'body: nested 10,000 deep'],
          [{ k: 'text', text: DEEP_OBJECT }, 'body: nested 10,000 deep'],
          [{ k: 'text', text: `{"name":"${'x'.repeat(1024 * 1024 + 16)}"}` }, 'body over 1 MiB'],
          [{ k: 'text', text: '{"name":"\\u0000"}' }, 'body: U+0000'],
          [{ k: 'text', text: '{"name":"\\ud800"}' }, 'body: lone surrogate'],
          [{ k: 'bytes', bytes: [...Buffer.from('{"name":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')] }, 'body: invalid UTF-8'],
          [{ k: 'bytes', bytes: [...Buffer.from('{"name":"'), 0xc0, 0x80, ...Buffer.from('"}')] }, 'body: invalid UTF-8'],
          [{ k: 'bytes', bytes: [0xff, 0xfe, 0x00] }, 'body: invalid UTF-8'],
        ),
      );

      const bodyFor = (op: Operation): fc.Arbitrary<[Body, string[]]> => {
        if (!op.body) {
          return fc.oneof(
            { weight: 8, arbitrary: fc.constant<[Body, string[]]>([{ k: 'none' }, []]) },
            { weight: 1, arbitrary: junkBody.map(([b, t]): [Body, string[]] => [b, [t]]) },
            { weight: 1, arbitrary: fc.constantFrom(...NASTY_TEXT).map((s): [Body, string[]] => [{ k: 'json', v: { name: s } }, [`body: ${kindOfText(s)}`]]) },
          );
        }
        const form = op.body.contentType === 'application/x-www-form-urlencoded';
        const template = TEMPLATES[label(op)];
        const bases: fc.WeightedArbitrary<unknown>[] = [{ weight: 3, arbitrary: fromSchema(op.body.schema) }];
        if (template) bases.push({ weight: 4, arbitrary: template });
        if (op.body.example !== undefined) bases.push({ weight: 1, arbitrary: fc.constant(op.body.example) });
        const base = fc.oneof(...bases);
        const wrap = (v: unknown): Body => (form ? { k: 'form', v } : { k: 'json', v });
        const mutated = fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([v, ms]): [Body, string[]] => {
          let cur = v;
          const tags: string[] = [];
          for (const mu of ms) {
            const [next, tag] = mutate(cur, mu);
            cur = next;
            if (tag !== 'none') tags.push(tag);
          }
          return [wrap(cur), tags];
        });
        const arbs: fc.WeightedArbitrary<[Body, string[]]>[] = [
          { weight: 5, arbitrary: base.map((v): [Body, string[]] => [wrap(v), []]) },
          { weight: 8, arbitrary: mutated },
          { weight: 2, arbitrary: junkBody.map(([b, t]): [Body, string[]] => [b, [t]]) },
        ];
        if (form) {
          // Form values that decode to U+0000 or to invalid UTF-8.
          arbs.push({
            weight: 2,
            arbitrary: fc
              .tuple(base, fc.constantFrom('grant_type', 'assertion', 'client_id', 'refresh_token'), fc.constantFrom('%00', 'a%00', '%ED%A0%80', '%C0%80', '%FF', '%zz', '%'))
              .map(([v, k, raw]): [Body, string[]] => [{ k: 'form', v: setAt(isPlain(v) ? v : {}, [k], new Raw(raw)) }, [`form ${k}: ${raw}`]]),
          });
        }
        return fc.oneof(...arbs);
      };

      // ---- path parameters ----
      const hostileSeg = fc.constantFrom(...HOSTILE_SEGMENTS).map((s): Seg => ({ k: 'raw', s, hostile: true }));
      const rawSeg = (a: fc.Arbitrary<string>) => a.map((s): Seg => ({ k: 'raw', s }));
      const liveSeg = (pool: PoolName) => fc.record({ k: fc.constant('live' as const), pool: fc.constant(pool), pick: fc.nat() });
      const segFor = (op: Operation, name: string): fc.Arbitrary<Seg> => {
        const w = (good: fc.Arbitrary<Seg>, valid: fc.Arbitrary<Seg>) =>
          fc.oneof({ weight: 10, arbitrary: good }, { weight: 2, arbitrary: valid }, { weight: 3, arbitrary: hostileSeg });
        const uuid = rawSeg(fc.uuid({ version: 1 }));
        switch (name) {
          case 'organizationUuid':
            return op.security === 'admin'
              ? fc.oneof(
                  { weight: 10, arbitrary: liveSeg('org') },
                  { weight: 1, arbitrary: liveSeg('org').map((s): Seg => ({ ...s, upper: true })) },
                  { weight: 2, arbitrary: liveSeg('otherOrg') },
                  { weight: 1, arbitrary: uuid },
                  { weight: 3, arbitrary: hostileSeg },
                )
              : fc.oneof(
                  { weight: 10, arbitrary: fc.constant<Seg>({ k: 'raw', s: 'self' }) },
                  { weight: 3, arbitrary: liveSeg('org') },
                  { weight: 1, arbitrary: liveSeg('org').map((s): Seg => ({ ...s, upper: true })) },
                  { weight: 1, arbitrary: liveSeg('otherOrg') },
                  { weight: 1, arbitrary: uuid },
                  { weight: 3, arbitrary: hostileSeg },
                );
          case 'subscriptionUuid':
            return w(liveSeg('subscription'), uuid);
          case 'messageId':
            return w(liveSeg('message'), rawSeg(fc.uuid()));
          case 'productUuid':
            return w(liveSeg(op.template.includes('/tracking/') ? 'tracked' : 'pv'), uuid);
          case 'purchaseUuid':
            return w(liveSeg('purchase'), uuid);
          case 'paymentTerminalId':
            return w(liveSeg('terminal'), rawSeg(hex24));
          case 'id':
            return w(liveSeg('undelivered'), rawSeg(hex24));
          case 'apiKeyId':
            return w(liveSeg('apiKey'), uuid);
          case 'connectionId':
            return w(liveSeg('connection'), uuid);
          case 'locationUuid':
            return w(liveSeg('location'), uuid);
          default:
            return fc.oneof(rawSeg(fc.uuid()), hostileSeg);
        }
      };

      // ---- query and header parameters ----
      interface QueryPart {
        pairs: [string, string][];
        tag?: string;
      }
      const queryValue = (p: Param): fc.Arbitrary<QueryPart> => {
        const valid =
          p.schema.type === 'array'
            ? fc.array(fromSchema((p.schema.items ?? {}) as Schema, p.name), { maxLength: 3 }).map((xs): QueryPart => ({ pairs: xs.map((x) => [p.name, pct(String(x))]) }))
            : fromSchema(p.schema, p.name).map((x): QueryPart => ({ pairs: [[p.name, pct(x instanceof Live ? FALLBACK.location : String(x))]] }));
        return fc.oneof(
          { weight: 6, arbitrary: fc.constant<QueryPart>({ pairs: [] }) },
          { weight: 3, arbitrary: valid },
          { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_QUERY_VALUES).map((v): QueryPart => ({ pairs: [[p.name, v]], tag: `query ${p.name}=${short(v, 24)}` })) },
          { weight: 1, arbitrary: fc.constantFrom('1', '%00').map((v): QueryPart => ({ pairs: [[p.name, v], [p.name, v]], tag: `query ${p.name}=${v} twice` })) },
        );
      };
      const queryFor = (op: Operation): fc.Arbitrary<QueryPart[]> =>
        fc.tuple(
          fc.tuple(...op.query.map(queryValue)),
          fc.oneof(
            { weight: 8, arbitrary: fc.constant<QueryPart>({ pairs: [] }) },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom<[string, string]>(['unknown', '%00'], ['%00', '1'], ['a[b]', 'c'], ['%ED%A0%80', 'x'], ['limit', '9223372036854775808'])
                .map(([k, v]): QueryPart => ({ pairs: [[k, v]], tag: `query ${k}=${v}: unknown parameter` })),
            },
          ),
        ).map(([parts, extra]): QueryPart[] => [...parts, extra]);
      const headersFor = (op: Operation): fc.Arbitrary<[string, string][]> =>
        op.headers.length === 0
          ? fc.constant([])
          : fc.tuple(
              ...op.headers.map((p) =>
                fc.oneof(
                  { weight: 4, arbitrary: fc.constant<[string, string][]>([]) },
                  { weight: 1, arbitrary: fc.constantFrom('*', '"nope"', 'W/"x"', '"a", "b"', '', 'x'.repeat(9000)).map((v): [string, string][] => [[p.name, v]]) },
                ),
              ),
            ).map((xs) => xs.flat());

      // ---- credentials ----
      const garbage = fc.constantFrom('Bearer', 'Bearer ', 'Bearer garbage', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', `Bearer ${'a'.repeat(6000)}`, 'Bearer \u00e9');
      const authFor = (op: Operation): fc.Arbitrary<Auth> => {
        const raw = garbage.map((g): Auth => ({ raw: g }));
        switch (op.security) {
          case 'admin':
            return fc.oneof({ weight: 16, arbitrary: fc.constant<Auth>('admin') }, { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'key') }, { weight: 1, arbitrary: raw });
          case 'bearer':
            return fc.oneof(
              { weight: 13, arbitrary: fc.constant<Auth>('key') },
              { weight: 3, arbitrary: fc.constant<Auth>('token') },
              { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'admin', 'revoked') },
              { weight: 1, arbitrary: raw },
            );
          case 'inventory':
            return fc.oneof(
              { weight: 8, arbitrary: fc.constant<Auth>('key') },
              { weight: 5, arbitrary: fc.constant<Auth>('xkey') },
              { weight: 2, arbitrary: fc.constantFrom<Auth>('both', 'token') },
              { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'mismatch', 'revoked') },
              { weight: 1, arbitrary: raw },
            );
          case 'none':
            return fc.oneof({ weight: 8, arbitrary: fc.constant<Auth>('none') }, { weight: 1, arbitrary: fc.constantFrom<Auth>('key', 'admin') }, { weight: 1, arbitrary: raw });
        }
      };
      const contentTypeFor = fc.oneof(
        { weight: 14, arbitrary: fc.constant<string | null | undefined>(undefined) },
        { weight: 1, arbitrary: fc.constantFrom<string | null>('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/json', 'multipart/form-data; boundary=x', null) },
      );

      const requestFor = (op: Operation): fc.Arbitrary<GenRequest> =>
        fc
          .record({
            method: fc.oneof({ weight: 14, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
            auth: authFor(op),
            segs: fc.record(Object.fromEntries(op.path.map((p) => [p.name, segFor(op, p.name)])) as Record<string, fc.Arbitrary<Seg>>),
            query: queryFor(op),
            headers: headersFor(op),
            body: bodyFor(op),
            contentType: contentTypeFor,
          })
          .map((r): GenRequest => {
            const tags = [...r.query.flatMap((q) => (q.tag ? [q.tag] : [])), ...r.body[1]];
            for (const [name, s] of Object.entries(r.segs)) if (s.k === 'raw' && s.hostile) tags.push(`path ${name}=${short(s.s, 24)}`);
            if (r.method !== op.method) tags.push(`method ${r.method}`);
            if (typeof r.auth === 'object' || ['none', 'revoked', 'mismatch'].includes(r.auth)) tags.push('bad credential');
            if (r.contentType !== undefined) tags.push(`content-type ${r.contentType}`);
            if (r.headers.length > 0) tags.push(`header ${r.headers.map(([k, v]) => `${k}: ${short(v, 12)}`).join(', ')}`);
            return { op, method: r.method, auth: r.auth, segs: r.segs, query: r.query.flatMap((q) => q.pairs), headers: r.headers, body: r.body[0], contentType: r.contentType, tags };
          });
      // Operations with a body, or a path parameter, weigh double: there is more to get wrong.
      const request = fc.oneof(...ops.map((op) => ({ weight: op.body || op.path.length > 1 ? 2 : 1, arbitrary: requestFor(op) })));

      // ---- the fixed cases: one plain request per route, then the issue's known 500s ----
      const opOf = (method: string, template: string) => {
        const op = ops.find((o) => o.method === method && o.template === template);
        assert.ok(op, `openapi.json has no ${method} ${template}`);
        return op;
      };
      const defaultSegs = (op: Operation): Record<string, Seg> =>
        Object.fromEntries(
          op.path.map((p): [string, Seg] => {
            const pool: Record<string, PoolName> = {
              organizationUuid: 'org',
              subscriptionUuid: 'subscription',
              messageId: 'message',
              productUuid: 'pv',
              purchaseUuid: 'purchase',
              paymentTerminalId: 'terminal',
              id: 'undelivered',
              apiKeyId: 'apiKey',
              connectionId: 'connection',
              locationUuid: 'location',
            };
            if (p.name === 'organizationUuid' && op.security !== 'admin') return [p.name, { k: 'raw', s: 'self' }];
            if (p.name === 'productUuid' && op.template.includes('/tracking/')) return [p.name, { k: 'live', pool: 'tracked', pick: 0 }];
            return [p.name, { k: 'live', pool: pool[p.name] ?? 'org', pick: 0 }];
          }),
        );
      const defaultAuth = (op: Operation): Auth => (op.security === 'admin' ? 'admin' : op.security === 'none' ? 'none' : 'key');
      const fixed = (
        method: string,
        template: string,
        name: string,
        over: Partial<Pick<GenRequest, 'segs' | 'query' | 'body' | 'headers' | 'auth'>> & { sentAs?: string } = {},
      ): GenRequest => {
        const op = opOf(method, template);
        return {
          op,
          method: over.sentAs ?? method,
          auth: over.auth ?? defaultAuth(op),
          segs: { ...defaultSegs(op), ...over.segs },
          query: over.query ?? [],
          headers: over.headers ?? [],
          body: over.body ?? { k: 'none' },
          tags: [name],
          name,
        };
      };
      const sample = <T>(a: fc.Arbitrary<T>, i = 0): T => fc.sample(a, { numRuns: 1, seed: SEED + i })[0]!;
      const plain: GenRequest[] = ops.map((op, i) => {
        const t = TEMPLATES[label(op)];
        const v = op.body ? (t ? sample(t, i) : (op.body.example ?? sample(fromSchema(op.body.schema), i))) : undefined;
        const body: Body = v === undefined ? { k: 'none' } : op.body?.contentType === 'application/x-www-form-urlencoded' ? { k: 'form', v } : { k: 'json', v };
        return { op, method: op.method, auth: defaultAuth(op), segs: defaultSegs(op), query: [], headers: [], body, tags: ['plain request'], name: 'plain request' };
      });

      const SUBS = '/organizations/{organizationUuid}/subscriptions';
      const MSG = `${SUBS}/{subscriptionUuid}/messages`;
      const AMSG = `/admin${MSG}`;
      const ORG = '/admin/organizations/{organizationUuid}';
      const raw = (s: string): Seg => ({ k: 'raw', s });
      const json = (v: unknown): Body => ({ k: 'json', v });
      const text = (t: string): Body => ({ k: 'text', text: t });
      const validProduct = sample(productArb) as Record<string, unknown>;
      const validTerminal = () => ({ paymentTerminal: terminal(`Fixed ${Math.random().toString(36).slice(2)}`) });
      const event = { eventName: 'ProductCreated', payload: PUSHER_EXAMPLES.ProductCreated!.payload };
      const known: GenRequest[] = [];
      for (const [bad, what] of [
        ['a\u0000b', 'U+0000'],
        ['\ud800', 'lone surrogate'],
      ] as const) {
        known.push(
          fixed('POST', '/admin/organizations', `organization name with ${what}`, { body: json({ name: bad }) }),
          fixed('POST', '/admin/organizations', `organization details value with ${what}`, { body: json({ name: 'Org', details: { city: bad } }) }),
          fixed('POST', '/admin/organizations', `organization details key with ${what}`, { body: json({ name: 'Org', details: { [bad]: 'x' } }) }),
          fixed('POST', `${ORG}/api-keys`, `API key name with ${what}`, { body: json({ name: bad, scopes: ['READ:PRODUCT'] }) }),
          fixed('POST', `${ORG}/api-keys`, `API key scope with ${what}`, { body: json({ name: 'k', scopes: [bad] }) }),
          fixed('POST', `${ORG}/app-connections`, `app connection clientId with ${what}`, { body: json({ clientId: bad, scopes: ['READ:PRODUCT'] }) }),
          fixed('POST', `${ORG}/events`, `publish messageId with ${what}`, { body: json({ ...event, messageId: bad }) }),
          fixed('POST', `${ORG}/events`, `publish eventName with ${what}`, { body: json({ ...event, eventName: bad }) }),
          fixed('POST', `${ORG}/events`, `publish payload text with ${what}`, { body: json({ ...event, payload: { ...event.payload, name: bad } }) }),
          fixed('POST', '/organizations/{organizationUuid}/products', `product name with ${what}`, { body: json({ ...validProduct, name: bad }) }),
          fixed('POST', '/organizations/{organizationUuid}/products', `product variant name with ${what}`, {
            body: json({ ...validProduct, variants: [{ name: bad, price: { amount: 1, currencyId: 'SEK' } }] }),
          }),
          fixed('POST', '/organizations/{organizationUuid}/products', `product category with ${what}`, { body: json({ ...validProduct, categories: [bad] }) }),
          fixed('PUT', '/organizations/{organizationUuid}/products/{productUuid}', `product update name with ${what}`, { body: json({ ...validProduct, name: bad }) }),
          fixed('PUT', '/organizations/{organizationUuid}', `organization details city with ${what}`, { body: json({ name: 'Org', city: bad }) }),
          fixed('PUT', '/organizations/{organizationUuid}', `organization details name with ${what}`, { body: json({ name: bad }) }),
          fixed('POST', SUBS, `subscription contactEmail with ${what}`, {
            body: json({ uuid: newUuidV1(), transportName: 'WEBHOOK', eventNames: [], destination: receiver.url, contactEmail: `a${bad}@example.com` }),
          }),
          fixed('POST', SUBS, `subscription eventNames with ${what}`, {
            body: json({ uuid: newUuidV1(), transportName: 'WEBHOOK', eventNames: [bad], destination: receiver.url, contactEmail: 'a@example.com' }),
          }),
          fixed('POST', '/payment-terminals', `payment terminal name with ${what}`, { auth: 'key', body: json({ paymentTerminal: { ...validTerminal().paymentTerminal, name: bad } }) }),
          fixed('POST', '/payment-terminals', `payment terminal serialNumber with ${what}`, {
            auth: 'key',
            body: json({ paymentTerminal: { ...validTerminal().paymentTerminal, serialNumber: bad } }),
          }),
          fixed('POST', '/organizations/{organizationUuid}/purchases', `purchase line name with ${what}`, {
            body: json(purchase(new Live('pv', 0, 0), new Live('pv', 0, 1), 1000, { name: bad })),
          }),
          fixed('POST', '/organizations/{organizationUuid}/purchases', `purchase udid with ${what}`, {
            body: json({ ...purchase(new Live('pv', 0, 0), new Live('pv', 0, 1), 1000), udid: bad }),
          }),
        );
      }
      for (const seg of ['%00', '%ED%A0%80', 'a%00b']) {
        known.push(
          fixed('GET', `${MSG}/{messageId}/attempts`, `attempts of message ${seg}`, { segs: { messageId: raw(seg) } }),
          fixed('POST', `${MSG}/{messageId}/resend`, `resend of message ${seg}`, { segs: { messageId: raw(seg) } }),
          fixed('GET', `${AMSG}/{messageId}/attempts`, `admin attempts of message ${seg}`, { segs: { messageId: raw(seg) } }),
          fixed('POST', `${AMSG}/{messageId}/resend`, `admin resend of message ${seg}`, { segs: { messageId: raw(seg) } }),
          fixed('GET', MSG, `messages of subscription ${seg}`, { segs: { subscriptionUuid: raw(seg) } }),
          fixed('GET', `${ORG}`, `admin organization ${seg}`, { segs: { organizationUuid: raw(seg) } }),
          fixed('GET', `${ORG}/api-keys/{apiKeyId}`, `admin API key ${seg}`, { segs: { apiKeyId: raw(seg) } }),
          fixed('DELETE', `${ORG}/app-connections/{connectionId}`, `admin app connection ${seg}`, { segs: { connectionId: raw(seg) } }),
          fixed('GET', '/payment-terminals/{paymentTerminalId}', `payment terminal ${seg}`, { segs: { paymentTerminalId: raw(seg) } }),
          fixed('GET', '/undelivered/{id}', `undelivered ${seg}`, { segs: { id: raw(seg) } }),
          fixed('DELETE', `${SUBS}/{subscriptionUuid}`, `delete subscription ${seg}`, { segs: { subscriptionUuid: raw(seg) } }),
        );
      }
      for (const n of ['9223372036854775808', '9007199254740993', '1e309', '-1', 'NaN', '9'.repeat(400)]) {
        known.push(
          fixed('GET', MSG, `messages ?before=${short(n, 20)}`, { query: [['before', n]] }),
          fixed('GET', MSG, `messages ?limit=${short(n, 20)}`, { query: [['limit', n]] }),
          fixed('GET', AMSG, `admin messages ?before=${short(n, 20)}`, { query: [['before', n]] }),
          fixed('GET', '/organizations/{organizationUuid}/purchases', `purchases ?afterPurchaseNumber=${short(n, 20)}`, { query: [['afterPurchaseNumber', n]] }),
          fixed('GET', '/payment-terminals', `payment terminals ?page=${short(n, 20)}`, { auth: 'xkey', query: [['page', n]] }),
          fixed('GET', '/undelivered', `undelivered ?pageSize=${short(n, 20)}`, { auth: 'xkey', query: [['pageSize', n]] }),
          fixed('GET', '/admin/mails', `mails ?limit=${short(n, 20)}`, { query: [['limit', n]] }),
        );
      }
      known.push(
        fixed('GET', '/admin/mails', 'mails ?organizationUuid=%00', { query: [['organizationUuid', '%00']] }),
        fixed('GET', '/organizations/{organizationUuid}/inventory/balances', 'balances ?locationUuid=%00', { query: [['locationUuid', '%00']] }),
        fixed('GET', '/undelivered/{id}', 'undelivered id beyond 2^53', { segs: { id: raw('ffffffffffffffffffffffff') } }),
        // Errors raised before a route runs (URL too long for a parameter, no such method) on the Inventory API's paths.
        fixed('GET', '/payment-terminals/{paymentTerminalId}', 'payment terminal id of 300 characters', { segs: { paymentTerminalId: raw('x'.repeat(300)) } }),
        fixed('PUT', '/undelivered/{id}/retry', 'undelivered id of 300 characters', { segs: { id: raw('1'.repeat(300)) } }),
        fixed('GET', '/payment-terminals', 'DELETE on the payment terminals collection', { sentAs: 'DELETE' }),
        fixed('GET', '/undelivered', 'PATCH on the undelivered collection', { sentAs: 'PATCH' }),
        fixed('PUT', '/undelivered/{id}/retry', 'retry undelivered id beyond 2^53', { segs: { id: raw('ffffffffffffffffffffffff') } }),
        fixed('GET', '/undelivered/{id}', 'undelivered id beyond 2^63', { segs: { id: raw('00000000ffffffffffffffff') } }),
        fixed('PUT', '/undelivered/{id}/retry', 'retry undelivered id 2^53', { segs: { id: raw('000000000020000000000000') } }),
      );
      for (const amount of [new Raw('9007199254740993'), 1e20, -1e20, 1.5, new Raw('9223372036854775808')]) {
        const a = amount instanceof Raw ? amount.text : String(amount);
        known.push(
          fixed('POST', '/organizations/{organizationUuid}/products', `product price amount ${a}`, {
            body: json({ ...validProduct, variants: [{ name: 'v', price: { amount, currencyId: 'SEK' } }] }),
          }),
          fixed('POST', '/organizations/{organizationUuid}/products', `product vatPercentage ${a}`, { body: json({ ...validProduct, vatPercentage: amount }) }),
          fixed('POST', '/organizations/{organizationUuid}/purchases', `purchase unitPrice ${a}`, {
            body: json(purchase(new Live('pv', 0, 0), new Live('pv', 0, 1), amount)),
          }),
        );
      }
      known.push(
        fixed('POST', '/organizations/{organizationUuid}/inventory/tracking', 'tracking productUuid with U+0000', {
          body: json({ productUuid: '\u0000' }),
        }),
        fixed('PUT', '/organizations/{organizationUuid}/inventory/balances', 'balance of 10^39', {
          body: json({ changes: [{ productUuid: new Live('tracked', 0, 0), variantUuid: new Live('tracked', 0, 1), balance: '9'.repeat(40) }] }),
        }),
        fixed('PUT', '/organizations/{organizationUuid}/products/{productUuid}', 'If-Match garbage', { headers: [['if-match', 'W/"x", *, "'.repeat(50)]], body: json(validProduct) }),
        fixed('POST', '/token', 'token assertion %00', { body: { k: 'form', v: { grant_type: JWT_BEARER_GRANT, assertion: new Raw('%00') } } }),
        fixed('POST', '/token', 'token grant_type %ED%A0%80', { body: { k: 'form', v: { grant_type: new Raw('%ED%A0%80') } } }),
        fixed('POST', '/token', 'token refresh_token U+0000', { body: { k: 'form', v: { grant_type: 'refresh_token', refresh_token: new Raw('a%00'), client_id: 'x' } } }),
      );
      for (const [method, template] of [
        ['POST', '/admin/organizations'],
        ['POST', '/organizations/{organizationUuid}/products'],
        ['POST', SUBS],
        ['PUT', '/organizations/{organizationUuid}'],
        ['POST', '/payment-terminals'],
        ['POST', '/organizations/{organizationUuid}/purchases'],
        ['POST', `${ORG}/events`],
      ] as const) {
        known.push(
          fixed(method, template, `JSON body nested 10,000 deep`, { body: text(DEEP_ARRAY) }),
          fixed(method, template, `JSON field nested 10,000 deep`, {
            body: json({ ...(template.includes('products') ? validProduct : { name: 'x' }), name: new Raw(DEEP_ARRAY), payload: new Raw(DEEP_OBJECT) }),
          }),
        );
      }

      // ---- running and checking one request ----
      interface Failure {
        key: string;
        report: string;
      }
      const failures: Failure[] = [];
      const stats = { total: 0, byStatus: new Map<number, number>(), okByOp: new Map<string, number>(), sentByOp: new Map<string, number>(), changed: 0 };
      let lastSnapKey = '';
      let pools: Pools | undefined;

      async function runOne(g: GenRequest): Promise<void> {
        const beforeSnap = await snapshot();
        const snapKey = JSON.stringify(beforeSnap);
        if (!pools || snapKey !== lastSnapKey) pools = await poolsNow();
        lastSnapKey = snapKey;
        const wire = toWire(g, pools, creds);
        receiver.reset();
        let res: WireResponse | undefined;
        let sendError: unknown;
        try {
          res = await send(agent, port, wire);
        } catch (err) {
          sendError = err;
        }
        const afterSnap = await snapshot();
        stats.total += 1;
        stats.sentByOp.set(label(g.op), (stats.sentByOp.get(label(g.op)) ?? 0) + 1);

        // Every broken rule of this request: [short kind for grouping, full text].
        const problems: [string, string][] = [];
        let errorType = '';
        if (res) {
          stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
          if (res.status >= 200 && res.status < 300) {
            stats.okByOp.set(label(g.op), (stats.okByOp.get(label(g.op)) ?? 0) + 1);
            if (JSON.stringify(afterSnap) !== snapKey) stats.changed += 1;
            return;
          }
          if (res.status < 400 || res.status >= 600) problems.push(['status', `a ${res.status}: neither 2xx, 4xx nor 5xx`]);
          // The error body: the shape the document gives this route and status.
          let body: unknown;
          try {
            body = JSON.parse(res.text);
          } catch {
            problems.push(['body', 'the error body is not JSON']);
          }
          if (body !== undefined) {
            const b = body as Record<string, unknown>;
            errorType = typeof b.errorType === 'string' ? b.errorType : typeof b.error === 'string' ? b.error : typeof b.code === 'string' ? b.code : '';
            const routed = g.method === g.op.method;
            // 431: Node's HTTP parser refused the request line before any route was known.
            const schema = res.status === 431 ? specError : routed ? (g.op.errors.get(res.status) ?? g.op.defaultError) : g.op.family === 'inventory' ? inventoryError : specError;
            const wrong = shapeProblems(body, schema);
            if (wrong.length > 0) problems.push([`not ${schema.title ?? 'the documented error body'}`, `the error body is not the documented ${schema.title ?? 'shape'}: ${wrong.join(', ')}`]);
          }
          // No 5xx, but the destination's.
          const destinationCase = g.method === 'POST' && g.op.template === SUBS && res.status === 500 && errorType === 'DESTINATION_RESPONDED_WITH_ERROR_CODE';
          if (res.status >= 500 && !destinationCase) problems.push(['5xx', `a ${res.status}`]);
        } else problems.push(['no answer', `no HTTP answer: ${String(sendError)}`]);
        // Nothing stored on a failure.
        const changedTables = tables.filter((t) => afterSnap[t] !== beforeSnap[t]);
        if (changedTables.length > 0) {
          const counts = changedTables.map((t) => `${t} (${beforeSnap[t]!.split(':')[0]} -> ${afterSnap[t]!.split(':')[0]} rows)`).join(', ');
          problems.push(['store changed', `stored data changed on a failure: ${counts}`]);
        }
        if (problems.length === 0) return;

        const status = res ? String(res.status) : 'no answer';
        const trigger = g.name ?? (g.tags.length > 0 ? g.tags.join('; ') : 'valid-looking request');
        const coarseTrigger = g.name ?? ([...new Set(g.tags.map(coarse))].sort().join('; ') || 'valid-looking request');
        failures.push({
          key: `${g.method} ${g.op.template} -> ${status} ${errorType} [${problems.map(([k]) => k).join(', ')}] on ${coarseTrigger}`,
          report:
            `  ${problems.map(([, text]) => text).join('\n  ')}\n  route: ${label(g.op)}${g.method !== g.op.method ? ` (sent as ${g.method})` : ''}\n  trigger: ${trigger}\n` +
            `  request: ${describeWire(wire)}\n  response: ${status} ${res ? short(res.text, 500) : ''}`,
        });
      }

      const started = Date.now();
      // Deletions last (tracking before its product), so that every route first meets the rows set up for it.
      const deletions = plain.filter((p) => p.method === 'DELETE').reverse();
      for (const g of [...plain.filter((p) => p.method !== 'DELETE'), ...known, ...deletions]) await runOne(g);
      const fixedCount = stats.total;
      await fc.assert(
        fc.asyncProperty(request, async (g) => {
          await runOne(g);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      const seconds = ((Date.now() - started) / 1000).toFixed(1);

      const byKey = new Map<string, { count: number; first: string }>();
      for (const f of failures) {
        const e = byKey.get(f.key);
        if (e) e.count += 1;
        else byKey.set(f.key, { count: 1, first: f.report });
      }
      const statuses = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
      const neverOk = ops.filter((op) => !stats.okByOp.has(label(op))).map(label);
      console.error(
        `[${backend.name}] ${stats.total} requests (${fixedCount} fixed, ${stats.total - fixedCount} generated, seed ${SEED}) over ${ops.length} routes in ${seconds} s; ` +
          `statuses ${statuses}; successes that changed the store ${stats.changed}; violations ${failures.length} (${byKey.size} distinct)` +
          (neverOk.length > 0 ? `; never 2xx: ${neverOk.join(', ')}` : ''),
      );

      // Every route was exercised, and the store evolved (else a change on a failure could not show).
      for (const op of ops) assert.ok((stats.sentByOp.get(label(op)) ?? 0) > 0, `${label(op)} was never requested`);
      assert.ok(stats.changed > 0, 'no success ever changed the store');
      if (byKey.size > 0) {
        const list = [...byKey].map(([key, { count, first }], i) => `#${i + 1} (${count}x) ${key}\n${first}`).join('\n\n');
        assert.fail(`${byKey.size} distinct violation(s) in ${failures.length} failing request(s) on ${backend.name} (seed ${SEED}):\n\n${list}`);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// Valid bodies.

function terminal(name: string) {
  return { name, protocol: 'wss', ip: '192.168.10.10', locationId: '5f243d100617680712e78dd7', partNumber: 'TRD30110877A', serialNumber: 'SN12345' };
}

/** A purchase of one line, quantity 1, paid in cash; amounts add up (unless unitPrice is hostile). */
function purchase(productUuid: unknown, variantUuid: unknown, unitPrice: unknown, line: Record<string, unknown> = {}) {
  const amount = typeof unitPrice === 'number' ? unitPrice : 0;
  return {
    currency: 'SEK',
    country: 'SE',
    amount,
    vatAmount: Math.round(amount * 0.2),
    gpsCoordinates: { longitude: 10, latitude: 10, accuracyMeters: 10 },
    products: [{ productUuid, variantUuid, unitPrice, quantity: '1', vatPercentage: 0.25, ...line }],
    cashPayments: [{ amount, handedAmount: amount }],
  };
}
