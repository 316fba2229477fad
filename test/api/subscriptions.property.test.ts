// Property-based test of the Pusher API's four subscription endpoints (issue 4): thousands
// of generated requests (methods, paths, query strings, headers and bodies that mix valid
// and invalid) against one real Herald and a real receiver, on both databases.
// The property, for every request:
// - never a 5xx, except 500 DESTINATION_RESPONDED_WITH_ERROR_CODE when the receiver
//   answered the TestMessage with a non-2xx status (the one it was told to give, or the
//   400/414/431 of Node's HTTP parser in front of it for a destination URL it cannot take);
// - every 4xx/5xx carries exactly the spec's error body {developerMessage, errorType, violations};
// - on any non-2xx the stored subscriptions are unchanged (snapshot before and after).
// Enough requests succeed for the state to evolve (creates feed updates and deletes).
// HERALD_PROPERTY_RUNS and HERALD_PROPERTY_SEED override the run count and the seed.
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { createCredential, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';

const RUNS = Number(process.env.HERALD_PROPERTY_RUNS ?? 3000);
const SEED = process.env.HERALD_PROPERTY_SEED === undefined ? undefined : Number(process.env.HERALD_PROPERTY_SEED);

// ---------------------------------------------------------------------------------------
// The generated request, symbolic where it depends on the server's state at run time.

type OrgRef = { kind: 'self' } | { kind: 'own'; upper: boolean } | { kind: 'other' } | { kind: 'raw'; segment: string };
type SubRef =
  | { kind: 'live'; pick: number; upper: boolean } // a live subscription, of any organization
  | { kind: 'raw'; segment: string };
type Route =
  | { kind: 'collection' }
  | { kind: 'item'; sub: SubRef }
  | { kind: 'alias'; sub: SubRef }
  | { kind: 'missingSub' } // .../subscriptions/ or .../subscriptions/uuid/
  | { kind: 'raw'; path: string };
type Auth = { kind: 'cred'; who: 'all' | 'few' | 'other' | 'revoked' } | { kind: 'none' } | { kind: 'raw'; value: string };
type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown } // JSON.stringify
  | { kind: 'entries'; entries: [string, unknown][] } // an object written by hand: duplicate keys kept
  | { kind: 'form'; value: Record<string, unknown> } // application/x-www-form-urlencoded
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }; // not necessarily UTF-8

interface GenRequest {
  receiverStatus: number;
  method: string;
  org: OrgRef;
  route: Route;
  suffix: string;
  query: string;
  auth: Auth;
  contentType: string | null;
  body: Body;
  extraHeaders: [string, string][];
}

/** The request as sent. */
interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

// ---------------------------------------------------------------------------------------
// Encoding helpers.

/** Percent-encodes every byte outside printable ASCII (and the characters that would end a segment). */
function encodeSegment(s: string, keep = ''): string {
  let out = '';
  for (const ch of s) {
    const printable = /^[\x21-\x7e]$/.test(ch) && !'/?#'.includes(ch);
    if (printable || keep.includes(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** An object written by hand, so that keys may repeat (JSON.parse keeps the last). */
const entriesText = (entries: [string, unknown][]) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;

function formText(value: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v)) for (const x of v) q.append(k, typeof x === 'string' ? x : JSON.stringify(x) ?? '');
    else q.append(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  }
  return q.toString();
}

function bodyBytes(b: Body): Buffer | undefined {
  switch (b.kind) {
    case 'none':
      return undefined;
    case 'json':
      return Buffer.from(JSON.stringify(b.value) ?? 'null', 'utf8');
    case 'entries':
      return Buffer.from(entriesText(b.entries), 'utf8');
    case 'form':
      return Buffer.from(formText(b.value), 'utf8');
    case 'text':
      return Buffer.from(b.text, 'utf8');
    case 'bytes':
      return Buffer.from(b.bytes);
  }
}

// ---------------------------------------------------------------------------------------
// Sending.

interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(agent: Agent, port: number, req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    const r = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent, timeout: 15_000 }, (res) => {
      // A HEAD answer has no body; stop there (bytes a server might wrongly send after it are not ours to parse).
      if (req.method === 'HEAD') {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' });
        r.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 15 s')));
    r.on('error', reject);
    r.end(req.body);
  });
}

const short = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);

// ---------------------------------------------------------------------------------------
// The suite.

interface Snapshot {
  text: string;
  live: { uuid: string }[];
}

for (const backend of testDatabases()) {
  describe(`Pusher API subscriptions, property-based: ${backend.name}`, () => {
    let h: TestHerald;
    let receiver: TestReceiver;
    let agent: Agent;
    let port: number;
    const creds = {} as Record<'all' | 'few' | 'other' | 'revoked', TestCredential>;

    before(async () => {
      h = await startTestHerald(backend);
      port = Number(new URL(h.url).port);
      receiver = await startReceiver();
      // A fresh connection per request: a server that closes after an error must not fail the next one.
      agent = new Agent({ keepAlive: false });
      creds.all = await createCredential(h, ALL_SCOPES);
      creds.few = await createCredential(h, ['READ:PRODUCT'], { organizationUuid: creds.all.organizationUuid });
      creds.other = await createCredential(h, ALL_SCOPES);
      creds.revoked = await createCredential(h, ALL_SCOPES, { organizationUuid: creds.all.organizationUuid });
      const revoke = await h.admin(`/admin/organizations/${creds.all.organizationUuid}/api-keys/${creds.revoked.apiKeyId}`, { method: 'DELETE' });
      assert.equal(revoke.status, 204);
    });
    after(async () => {
      agent.destroy();
      await receiver.close();
      await h.stop();
    });

    async function snapshot(): Promise<Snapshot> {
      const { rows } = await h.db.query<{ snap: string }>(
        `select coalesce(json_agg(t order by t.id), '[]')::text as snap from (
           select id, uuid, organization_uuid, transport_name, event_names, destination, contact_email,
                  status, signing_key, updated_at, deleted_at
           from subscriptions) t`,
      );
      const text = rows[0]!.snap;
      const all = JSON.parse(text) as { uuid: string; deleted_at: string | null }[];
      return { text, live: all.filter((r) => r.deleted_at === null) };
    }

    it('never a 5xx (but the destination case), always the spec error body, nothing stored on a failure', async () => {
      // ---- arbitraries (built here: they use the receiver's URL and the organizations) ----
      const ownOrg = creds.all.organizationUuid;
      const otherOrg = creds.other.organizationUuid;
      const eventNames = EVENT_TYPES.map((e) => e.name);
      const productEvents = EVENT_TYPES.filter((e) => e.scope === 'READ:PRODUCT' || e.scope === null).map((e) => e.name);

      const nastyChar = fc.constantFrom(
        '\u0000', '\u0001', '\u001f', '\u007f', '\ud800', '\udbff', '\udc00', '\udfff', '\ufeff', '\ufffe', '\uffff',
        '\u202e', '\u2028', 'é', 'ß', '€', '😀', '\n', '\r', '\t', ' ', '"', "'", '\\', '/', '%', '%00', '%zz', '%E0%A4',
        '..', '?', '#', '&', '=', '+', ',', ';', '<', '>', '{', '}', '[', ']', '@', ':',
      );
      /** Short strings full of what breaks parsers: NUL, lone surrogates, controls, percent signs. */
      const smallNasty = fc.oneof(
        { weight: 3, arbitrary: fc.array(fc.oneof(nastyChar, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((a) => a.join('')) },
        { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
      );
      /** The same, and huge strings (for bodies). */
      const nastyString = fc.oneof(
        { weight: 6, arbitrary: smallNasty },
        { weight: 1, arbitrary: fc.constantFrom(10_000, 100_000, 600_000).chain((n) => fc.constantFrom('x', '\u0000', 'é', '\ud800').map((c) => c.repeat(n))) },
      );
      const weirdValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
        v: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          fc.constant(null),
          fc.boolean(),
          fc.integer(),
          fc.double(),
          fc.constantFrom(0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2),
          nastyString,
          fc.uuid(),
          fc.constantFrom('WEBHOOK', 'webhook', '', ' ', 'ProductUpdated', 'true', 'null', '[]', '{}'),
          fc.array(tie('v'), { maxLength: 4 }),
          fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'uuid')), tie('v'), { maxKeys: 3 }),
        ),
      })).v;

      const destination = fc.oneof(
        { weight: 30, arbitrary: fc.constant(receiver.url) },
        {
          weight: 6,
          arbitrary: fc.oneof(
            fc.webSegment().map((s) => `${receiver.origin}/hook/${s}`),
            fc.webQueryParameters().map((q) => `${receiver.url}?${q}`),
            fc.constant(`HTTP://127.0.0.1:${receiver.port}/hook#frag`),
            fc.constant(`http://localhost:${receiver.port}/hook`),
            nastyString.map((s) => `${receiver.url}${s}`),
            nastyString.map((s) => `${s}${receiver.url}`),
          ),
        },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            'http://127.0.0.1:1/hook', // refused
            `http://[::1]:${receiver.port}/hook`, // the receiver listens on IPv4 only
            'https://no-such-host.invalid/hook',
            'ftp://example.com/hook',
            'not a url',
            '',
            '   ',
            `http://user:pw@127.0.0.1:${receiver.port}/hook`,
            'http:///hook',
            'https://',
            'javascript:alert(1)',
            'file:///etc/passwd',
          ),
        },
      );
      const contactEmail = fc.oneof(
        { weight: 8, arbitrary: fc.constant('your_email@domain.com') },
        { weight: 2, arbitrary: fc.emailAddress() },
        { weight: 2, arbitrary: fc.oneof(nastyString, nastyString.map((s) => `${s}@example.com`), fc.constant(`${'a'.repeat(64)}@${'b.'.repeat(230)}com`)) },
      );
      const eventNamesArb = fc.oneof(
        { weight: 6, arbitrary: fc.subarray(productEvents, { minLength: 1 }) },
        { weight: 3, arbitrary: fc.subarray(eventNames) },
        { weight: 1, arbitrary: fc.constant([] as string[]) },
        { weight: 1, arbitrary: fc.constantFrom(...eventNames) }, // one name as a string
        {
          weight: 2,
          arbitrary: fc.oneof(
            fc.array(fc.oneof(fc.constantFrom(...eventNames), fc.constantFrom('TestMessage', 'productUpdated', 'Nope', ''), nastyString), { minLength: 1, maxLength: 5 }),
            fc.array(fc.constantFrom(...eventNames), { minLength: 2, maxLength: 6 }), // repeats
            fc.constant(eventNames.join(',')),
          ),
        },
      );
      const uuidArb = fc.oneof(
        { weight: 10, arbitrary: fc.uuid({ version: 1 }) },
        { weight: 1, arbitrary: fc.uuid({ version: 1 }).map((u) => u.toUpperCase()) },
        { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.uuid({ version: 1 }).map((u) => `{${u}}`), fc.uuid({ version: 1 }).map((u) => u.replaceAll('-', '')), nastyString) },
      );
      const FIELDS = ['uuid', 'transportName', 'eventNames', 'destination', 'contactEmail'] as const;
      const createBody = fc.record({
        uuid: uuidArb,
        transportName: fc.oneof({ weight: 12, arbitrary: fc.constant('WEBHOOK') }, { weight: 1, arbitrary: fc.constantFrom('SMS', 'webhook', 'WEBHOOK ') }),
        eventNames: eventNamesArb,
        destination,
        contactEmail,
      });
      const updateBody = fc.record(
        {
          transportName: fc.constant('WEBHOOK'),
          eventNames: eventNamesArb,
          destination,
          contactEmail,
        },
        { requiredKeys: [] },
      );
      const extraKey = fc.oneof(
        fc.constantFrom(...FIELDS),
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'signingKey', 'status', 'updated', 'organizationUuid', 'id', 'created_by'),
        fc.string({ maxLength: 8 }),
      );
      /** Mutates an object: removes, retypes or adds fields. */
      type Mutation = { op: 'remove'; key: string } | { op: 'set'; key: string; value: unknown };
      const mutation: fc.Arbitrary<Mutation> = fc.oneof(
        fc.record({ op: fc.constant('remove' as const), key: fc.constantFrom(...FIELDS) }),
        fc.record({ op: fc.constant('set' as const), key: extraKey, value: weirdValue }),
      );
      const applyMutations = (obj: Record<string, unknown>, ms: Mutation[]): [string, unknown][] => {
        const entries: [string, unknown][] = Object.entries(obj);
        for (const m of ms) {
          const i = entries.findIndex(([k]) => k === m.key);
          if (m.op === 'remove') {
            if (i >= 0) entries.splice(i, 1);
          } else if (i >= 0) entries[i] = [m.key, m.value];
          else entries.push([m.key, m.value]);
        }
        return entries;
      };
      const subscriptionBody = (base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Body> =>
        fc.oneof(
          { weight: 14, arbitrary: base.map((value): Body => ({ kind: 'json', value })) },
          {
            weight: 8,
            arbitrary: fc
              .tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 }))
              .map(([b, ms]): Body => ({ kind: 'json', value: Object.fromEntries(applyMutations(b, ms)) })),
          },
          {
            // Duplicate keys: the text carries the valid value and another, in either order.
            weight: 2,
            arbitrary: fc
              .tuple(base, fc.constantFrom(...FIELDS), weirdValue, fc.boolean())
              .map(([b, key, value, first]): Body => {
                const entries = Object.entries(b);
                return { kind: 'entries', entries: first ? [[key, value], ...entries] : [...entries, [key, value]] };
              }),
          },
          { weight: 1, arbitrary: base.map((value): Body => ({ kind: 'form', value })) },
          { weight: 3, arbitrary: garbageBody },
        );
      const garbageBody: fc.Arbitrary<Body> = fc.oneof(
        fc.constantFrom(
          '', ' ', '\n', 'null', 'true', '0', '"WEBHOOK"', '[]', '[{}]', '{}', '{', '}', '{"uuid":}', '{"uuid" "x"}', "{'uuid':'x'}",
          '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '\ufeff{}', '{"a":1}garbage', 'NaN',
          '{"eventNames":["ProductUpdated",]}', '{"uuid":"\\ud800"}', '{"destination":"\\u0000"}', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        ).map((text): Body => ({ kind: 'text', text })),
        fc.json({ maxDepth: 3 }).map((text): Body => ({ kind: 'text', text })),
        fc.string({ unit: 'binary', maxLength: 40 }).map((text): Body => ({ kind: 'text', text })),
        fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a): Body => ({ kind: 'bytes', bytes: [...a] })),
        fc.constant<Body>({ kind: 'text', text: `{"uuid":"${'x'.repeat(1024 * 1024 + 16)}"}` }), // over the 1 MiB limit
        // Invalid UTF-8 (a CESU-8 lone surrogate, an overlong NUL) inside a JSON string.
        fc.constantFrom([0xed, 0xa0, 0x80], [0xc0, 0x80], [0xff], [0xe2, 0x82]).map((bad): Body => ({
          kind: 'bytes',
          bytes: [...Buffer.from(`{"uuid":"x","transportName":"WEBHOOK","eventNames":[],"destination":"${receiver.url}`), ...bad, ...Buffer.from('","contactEmail":"a@example.com"}')],
        })),
      );

      const segment = fc.oneof(
        fc.uuid(),
        fc.uuid({ version: 1 }),
        fc.constantFrom('', 'self', 'SELF', 'uuid', '.', '..', '%2e%2e', '%00', '%2F', '%zz', '%', '%E0%A4', '%C0%80', 'null', 'undefined', '0', '-1'),
        smallNasty.map((s) => encodeSegment(s)),
        fc.webSegment(),
        fc.constantFrom(200, 5000, 20_000).map((n) => 'a'.repeat(n)), // the last is over the 16 KiB header limit
      );
      const org: fc.Arbitrary<OrgRef> = fc.oneof(
        { weight: 14, arbitrary: fc.constant<OrgRef>({ kind: 'self' }) },
        { weight: 4, arbitrary: fc.boolean().map((upper): OrgRef => ({ kind: 'own', upper })) },
        { weight: 1, arbitrary: fc.constant<OrgRef>({ kind: 'other' }) },
        { weight: 2, arbitrary: segment.map((s): OrgRef => ({ kind: 'raw', segment: s })) },
      );
      const sub: fc.Arbitrary<SubRef> = fc.oneof(
        { weight: 6, arbitrary: fc.record({ kind: fc.constant('live' as const), pick: fc.nat(), upper: fc.boolean() }) },
        { weight: 2, arbitrary: segment.map((s): SubRef => ({ kind: 'raw', segment: s })) },
      );
      const suffix = fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/extra', '/..', '%2F', ';x=1', '/uuid') });
      const query = fc.oneof(
        { weight: 12, arbitrary: fc.constant('') },
        {
          weight: 3,
          arbitrary: fc
            .array(fc.tuple(fc.oneof(fc.constantFrom(...FIELDS, 'eventNames[]', '__proto__', 'constructor'), fc.string({ maxLength: 6 })), fc.oneof(smallNasty, fc.uuid({ version: 1 }), fc.constantFrom('WEBHOOK', receiver.url, 'ProductUpdated', 'ProductUpdated,ProductCreated', '', 'a@example.com'))), {
              maxLength: 5,
            })
            .map((pairs) => `?${pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v, '/:')}`).join('&')}`),
        },
        { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?%', '?%zz=%zz', '?a[b]=c', '?eventNames', '?eventNames=', `?x=${'y'.repeat(4000)}`, '?uuid=1&uuid=2') },
      );
      const headerChar = fc.mapToConstant({ num: 0x5f, build: (v) => String.fromCharCode(0x20 + v) }, { num: 0x80, build: (v) => String.fromCharCode(0x80 + v) });
      const auth: fc.Arbitrary<Auth> = fc.oneof(
        { weight: 16, arbitrary: fc.constant<Auth>({ kind: 'cred', who: 'all' }) },
        { weight: 3, arbitrary: fc.constant<Auth>({ kind: 'cred', who: 'few' }) },
        { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'cred', who: 'other' }) },
        { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'cred', who: 'revoked' }) },
        { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              fc.string({ unit: headerChar, maxLength: 60 }),
              fc.string({ unit: headerChar, maxLength: 60 }).map((s) => `Bearer ${s}`),
              fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${TEST_ADMIN_TOKEN}`, `bearer ${creds.all.apiKey}`,
                `Bearer  ${creds.all.apiKey}  `, `Bearer ${creds.all.apiKey.slice(0, -1)}`, `Bearer ${creds.all.apiKey}x`, `Bearer ${creds.all.apiKey} extra`,
                `Bearer ${'a'.repeat(6000)}`, 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer a.b.c'),
            )
            .map((value): Auth => ({ kind: 'raw', value })),
        },
      );
      const contentType = fc.oneof(
        { weight: 10, arbitrary: fc.constant(null) }, // what the body calls for (application/json, or none)
        {
          weight: 1,
          arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=latin1', 'text/plain', 'text/json',
            'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/json-patch+json', '*/*',
            'garbage;;;', 'application/json, text/plain', 'application/vnd.api+json'),
        },
      );
      const method = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('POST', 'GET', 'PUT', 'DELETE') },
        { weight: 1, arbitrary: fc.constantFrom('PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'COPY', 'SEARCH') },
      );
      const extraHeaders = fc.oneof(
        { weight: 10, arbitrary: fc.constant<[string, string][]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.tuple(fc.constantFrom('accept', 'accept-charset', 'content-encoding', 'x-http-method-override', 'x-forwarded-for', 'origin', 'cookie'), fc.string({ unit: headerChar, maxLength: 30 })),
            { maxLength: 3 },
          ),
        },
      );
      const receiverStatus = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(200, 201, 204) }, { weight: 1, arbitrary: fc.constantFrom(302, 400, 404, 410, 500, 503) });

      type Endpoint = 'create' | 'list' | 'update' | 'delete' | 'alias' | 'other';
      const endpoint = fc.oneof(
        { weight: 6, arbitrary: fc.constant<Endpoint>('create') },
        { weight: 2, arbitrary: fc.constant<Endpoint>('list') },
        { weight: 4, arbitrary: fc.constant<Endpoint>('update') },
        { weight: 2, arbitrary: fc.constant<Endpoint>('delete') },
        { weight: 1, arbitrary: fc.constant<Endpoint>('alias') },
        { weight: 1, arbitrary: fc.constant<Endpoint>('other') },
      );
      const NATIVE: Record<Endpoint, string> = { create: 'POST', list: 'GET', update: 'PUT', delete: 'DELETE', alias: 'DELETE', other: 'GET' };
      const noBody = fc.oneof({ weight: 6, arbitrary: fc.constant<Body>({ kind: 'none' }) }, { weight: 1, arbitrary: fc.oneof(garbageBody, createBody.map((value): Body => ({ kind: 'json', value }))) });

      const request: fc.Arbitrary<GenRequest> = endpoint.chain((ep) => {
        const route: fc.Arbitrary<Route> =
          ep === 'create' || ep === 'list'
            ? fc.oneof({ weight: 12, arbitrary: fc.constant<Route>({ kind: 'collection' }) }, { weight: 1, arbitrary: fc.constant<Route>({ kind: 'missingSub' }) })
            : ep === 'update' || ep === 'delete'
              ? fc.oneof({ weight: 12, arbitrary: sub.map((s): Route => ({ kind: 'item', sub: s })) }, { weight: 1, arbitrary: fc.constant<Route>({ kind: 'missingSub' }) }, { weight: 1, arbitrary: fc.constant<Route>({ kind: 'collection' }) })
              : ep === 'alias'
                ? sub.map((s): Route => ({ kind: 'alias', sub: s }))
                : fc.oneof(
                    fc.webPath().map((p): Route => ({ kind: 'raw', path: p.startsWith('/') ? p : `/${p}` })),
                    fc.constantFrom('/', '//organizations/self/subscriptions', '/organizations', '/organizations/', '/organizations//subscriptions', '/Organizations/self/subscriptions',
                      '/organizations/self/SUBSCRIPTIONS', '/organizations/self/subscriptions/uuid', '/organizations/self/subscriptions/uuid/x/y', '/organizations/self/subscriptions/%2e%2e',
                      '/organizations/self/subscriptions/../subscriptions', `/${'a'.repeat(8000)}`).map((p): Route => ({ kind: 'raw', path: p })),
                  );
        const body =
          ep === 'create' ? subscriptionBody(createBody) : ep === 'update' ? subscriptionBody(updateBody) : noBody;
        return fc.record({
          receiverStatus,
          method: fc.oneof({ weight: 12, arbitrary: fc.constant(NATIVE[ep]) }, { weight: 1, arbitrary: method }),
          org,
          route,
          suffix,
          query,
          auth,
          contentType,
          body,
          extraHeaders,
        });
      });

      // ---- running one request ----
      const live = (snap: Snapshot, ref: SubRef): string => {
        if (ref.kind === 'raw') return ref.segment;
        const row = snap.live[ref.pick % Math.max(1, snap.live.length)];
        const u = row?.uuid ?? '00000000-0000-1000-8000-000000000000';
        return ref.upper ? u.toUpperCase() : u;
      };
      const orgSegment = (o: OrgRef) =>
        o.kind === 'self' ? 'self' : o.kind === 'own' ? (o.upper ? ownOrg.toUpperCase() : ownOrg) : o.kind === 'other' ? otherOrg : o.segment;

      function toWire(g: GenRequest, snap: Snapshot): WireRequest {
        const base = `/organizations/${orgSegment(g.org)}/subscriptions`;
        const r = g.route;
        const path =
          r.kind === 'collection' ? base
          : r.kind === 'item' ? `${base}/${live(snap, r.sub)}`
          : r.kind === 'alias' ? `${base}/uuid/${live(snap, r.sub)}`
          : r.kind === 'missingSub' ? `${base}/`
          : r.path;
        const headers: Record<string, string> = {};
        for (const [k, v] of g.extraHeaders) headers[k] = v;
        if (g.auth.kind === 'cred') headers.authorization = creds[g.auth.who].auth;
        else if (g.auth.kind === 'raw') headers.authorization = g.auth.value;
        const body = bodyBytes(g.body);
        const ct = g.contentType ?? (g.body.kind === 'none' ? null : g.body.kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');
        if (ct !== null) headers['content-type'] = ct;
        return { method: g.method, path: `${path}${g.suffix}${g.query}`, headers, body };
      }

      const stats = { total: 0, byStatus: new Map<number, number>(), success: new Map<string, number>(), failures: 0, destination500: 0, changed: 0 };
      const describeWire = (w: WireRequest) =>
        `${w.method} ${short(w.path, 300)}\nheaders: ${short(JSON.stringify(w.headers), 300)}\nbody: ${w.body ? short(JSON.stringify(w.body.toString('utf8')), 600) : '(none)'}`;

      const property = fc.asyncProperty(request, async (g) => {
        const before = await snapshot();
        const wire = toWire(g, before);
        receiver.reset();
        receiver.respondWith(g.receiverStatus);
        const res = await send(agent, port, wire);
        const after = await snapshot();
        const probed = receiver.requests.length > 0;

        stats.total += 1;
        stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
        const context = () => `\nrequest: ${describeWire(wire)}\nreceiver answered: ${probed ? g.receiverStatus : '(not called)'}\nresponse: ${res.status} ${short(res.text)}`;

        assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 600), `unexpected status${context()}`);
        if (res.status < 300) {
          stats.success.set(wire.method, (stats.success.get(wire.method) ?? 0) + 1);
          if (after.text !== before.text) stats.changed += 1;
          return;
        }
        stats.failures += 1;
        // Every error carries exactly the spec's body (a HEAD answer has no body at all).
        let errorType: string | undefined;
        if (wire.method !== 'HEAD') {
          let parsed: unknown;
          try {
            parsed = JSON.parse(res.text);
          } catch {
            assert.fail(`the error body is not JSON${context()}`);
          }
          const body = parsed as Record<string, unknown>;
          assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `the error body is not an object${context()}`);
          assert.deepEqual(Object.keys(body).sort(), ['developerMessage', 'errorType', 'violations'], `error body keys${context()}`);
          assert.equal(typeof body.developerMessage, 'string', `developerMessage${context()}`);
          assert.equal(typeof body.errorType, 'string', `errorType${context()}`);
          assert.ok(Array.isArray(body.violations), `violations${context()}`);
          errorType = body.errorType as string;
        }
        if (res.status >= 500) {
          assert.ok(res.status === 500 && errorType === 'DESTINATION_RESPONDED_WITH_ERROR_CODE', `a 5xx other than the destination's error${context()}`);
          // The destination really answered non-2xx: the receiver as told, or Node's HTTP parser
          // in front of it refusing the TestMessage (a destination URL too long for its header limit).
          const answered = Number(/answered HTTP (\d+)/.exec(JSON.stringify(JSON.parse(res.text)))?.[1]);
          const expected = probed ? g.receiverStatus : answered;
          assert.ok(probed ? g.receiverStatus < 200 || g.receiverStatus >= 300 : [400, 414, 431].includes(answered), `a destination error the receiver did not give${context()}`);
          assert.equal(answered, expected, `the destination's status is misreported${context()}`);
          stats.destination500 += 1;
        }
        // Nothing stored on a failure.
        assert.equal(after.text, before.text, `stored subscriptions changed on a ${res.status}${context()}`);
      });

      const started = Date.now();
      // fc.check rather than fc.assert: the report is ours, with huge generated values cut short.
      const details = await fc.check(property, { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) });
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        assert.fail(
          `property failed after ${details.numRuns} run(s), shrunk ${details.numShrinks} time(s); ` +
            `replay with HERALD_PROPERTY_SEED=${details.seed} (path ${details.counterexamplePath})\n` +
            `${short(cause, 3000)}\ncounterexample: ${JSON.stringify(details.counterexample, (_k, v: unknown) => (typeof v === 'string' ? short(v, 200) : v))}`,
        );
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const statuses = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
      const successes = [...stats.success].map(([m, n]) => `${m}:${n}`).join(' ');
      console.error(`[${backend.name}] ${stats.total} requests in ${seconds} s; statuses ${statuses}; 2xx by method ${successes}; destination 500s ${stats.destination500}; successes that changed the store ${stats.changed}`);

      // Not vacuous: every endpoint succeeded sometimes, and plenty failed.
      for (const m of ['POST', 'GET', 'PUT', 'DELETE']) assert.ok((stats.success.get(m) ?? 0) > 0, `no ${m} ever succeeded`);
      assert.ok(stats.failures > 0, 'no request ever failed');
      assert.ok(stats.changed > 0, 'no success ever changed the snapshot: it would not see a change on a failure either');
      assert.ok(stats.total >= RUNS, `only ${stats.total} requests were sent`);
    });
  });
}
