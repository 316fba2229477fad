// Shared set-up of the business API tests: a running Herald, an organization and a
// credential made through the admin API, and readers of what the outbox recorded.
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/domain/sealed-secrets.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { DomainContext } from '../../src/domain/context.js';
import { newObjectId, newUuidV1 } from '../../src/domain/ids.js';
import { createOrganization } from '../../src/domain/organizations.js';
import { ALL_SCOPES } from '../../src/domain/scopes.js';
import { makeLogger } from '../../src/logger.js';
import type { Actor } from '../../src/sources/actor.js';
import type { Queryable } from '../../src/store/db.js';
import type { TestDatabase, TestDb } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

/** An event row of the outbox. */
export interface EventRow {
  id: number;
  organization_uuid: string;
  event_name: string;
  message_id: string;
  payload: Record<string, unknown> & { [k: string]: unknown };
  livemode: boolean;
  created_at: Date;
}

/** The organization's recorded events (of one name, when given), oldest first. */
export async function eventsOf(q: Queryable, organizationUuid: string, eventName?: string): Promise<EventRow[]> {
  const r = await q.query<EventRow>(
    `select * from events where organization_uuid = $1 and ($2::text is null or event_name = $2::text) order by id`,
    [organizationUuid, eventName ?? null],
  );
  return r.rows;
}

/** Row counts of every business table and the outbox: "nothing changed" is an equal snapshot. */
export async function snapshot(q: Queryable): Promise<Record<string, string>> {
  const tables = ['events', 'products', 'locations', 'inventory_tracking', 'inventory_balances', 'purchases', 'purchase_counters', 'payment_terminals'];
  const out: Record<string, string> = {};
  for (const t of tables) {
    // Contents, not just counts: an update that should not have happened shows too.
    const r = await q.query<{ v: string }>(`select coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as v from ${t} t`);
    out[t] = r.rows[0]!.v;
  }
  return out;
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A Herald with one organization and a credential holding `scopes` (default: all). */
export interface BusinessHerald {
  h: TestHerald;
  /** The server's clock. */
  clock: ManualClock;
  org: string;
  apiKey: string;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResult<T>>;
  /** A credential of the same organization with other scopes or livemode. */
  credential(scopes: string[], livemode?: boolean): Promise<string>;
  stop(): Promise<void>;
}

async function json<T>(r: Response): Promise<T> {
  const text = await r.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export async function startBusinessHerald(
  backend: TestDatabase,
  opts: { scopes?: string[]; livemode?: boolean } = {},
): Promise<BusinessHerald> {
  const clock = new ManualClock(Date.UTC(2018, 0, 17, 9, 2, 27, 423));
  const h = await startTestHerald(backend, { clock });
  try {
    const created = await h.admin('/admin/organizations', { method: 'POST', body: JSON.stringify({ name: 'Huypacy AB' }) });
    if (created.status !== 201) throw new Error(`create organization: ${created.status} ${await created.text()}`);
    const org = (await json<{ organizationUuid: string }>(created)).organizationUuid;
    const credential = async (scopes: string[], livemode = true) => {
      const r = await h.admin(`/admin/organizations/${org}/api-keys`, {
        method: 'POST',
        body: JSON.stringify({ name: 'test', scopes, livemode }),
      });
      if (r.status !== 201) throw new Error(`create API key: ${r.status} ${await r.text()}`);
      return (await json<{ apiKey: string }>(r)).apiKey;
    };
    const apiKey = await credential(opts.scopes ?? ALL_SCOPES, opts.livemode ?? true);
    return {
      h,
      clock,
      org,
      apiKey,
      credential,
      async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
        const r = await h.request(path, {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.status, body: await json<T>(r), headers: r.headers };
      },
      stop: () => h.stop(),
    };
  } catch (err) {
    await h.stop();
    throw err;
  }
}

/** A domain context on a test database, with a manual clock, and an actor in a new organization. */
export async function openDomain(
  backend: TestDatabase,
  opts: { livemode?: boolean } = {},
): Promise<{ ctx: DomainContext; clock: ManualClock; actor: Actor; testDb: TestDb }> {
  const testDb = await backend.open();
  const clock = new ManualClock(Date.UTC(2018, 0, 17, 9, 2, 27, 423));
  const config = loadConfig({}, { logLevel: 'silent' });
  const ctx: DomainContext = {
    db: testDb.db,
    clock,
    config,
    log: makeLogger({ logLevel: 'silent', logFormat: 'json' }),
    secrets: new SecretBox(randomBytes(32)),
  };
  const org = await createOrganization(ctx, { name: 'Huypacy AB' });
  const actor: Actor = {
    organizationUuid: org.organizationUuid,
    userUuid: newUuidV1(),
    userObjectId: newObjectId(),
    livemode: opts.livemode ?? true,
    clientId: newUuidV1(),
  };
  return { ctx, clock, actor, testDb };
}

/** A product body like the spec's example. */
export function productBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'GBRNOTYI',
    description: 'CSINH CD ZWR EKTWJ OMYGXV BP JNVQS CF OAMTIS UPZQ YZC QH LAX EZYCBCY NKQUNOK TK FAQCXO XJPBLL ZP UNHVWFI ',
    presentation: { imageUrl: 'http://image.izettle.com/productimage/l/GAdasdaBXTC.jpg', backgroundColor: '#804619', textColor: '#408384' },
    categories: ['GDOCJKIQ'],
    variants: [
      {
        name: 'SXTDESFYPA',
        description: 'VOYLECG TGEBKQT WSTG PIV EIZ LG MPDXVU XKGPEF VA MVJYWA IKZCQ FQGJHR XPDXM MVS HMBHN KRERY SWQ NQPQIL MGNP SLW ',
        sku: 'SGRZ8SK5EJTBT018H4',
        barcode: '7AIRNAB1KF',
        price: { amount: 8300, currencyId: 'SEK' },
        costPrice: { amount: 9800, currencyId: 'SEK' },
      },
    ],
    externalReference: 'VCKWGHFISF',
    vatPercentage: 25,
    ...overrides,
  };
}

/** A purchase body selling `quantity` of a product's variant at unitPrice, paid in cash, VAT 25 %. */
export function purchaseBody(
  lines: { productUuid: string; variantUuid: string; unitPrice: number; quantity: string }[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const amount = lines.reduce((a, l) => a + Math.round(l.unitPrice * Number(l.quantity)), 0);
  return {
    currency: 'SEK',
    country: 'SE',
    amount,
    vatAmount: Math.round(amount * 0.2),
    gpsCoordinates: { longitude: 10.0, latitude: 10.0, accuracyMeters: 10.0 },
    udid: 'G_CV8PtlEeeM-myT50Z8dg',
    products: lines.map((l) => ({ ...l, vatPercentage: 0.25 })),
    discounts: [],
    cashPayments: [{ amount, handedAmount: amount }],
    ...overrides,
  };
}
