import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { PaymentTerminalSchema } from '../../domain/payload-schemas.js';
import {
  createPaymentTerminal,
  pageOfPaymentTerminals,
  getPaymentTerminal,
  removePaymentTerminal,
  replacePaymentTerminal,
  type PaymentTerminalInput,
} from '../../sources/payment-terminals.js';
import { HeraldError } from '../../errors.js';
import { actorOf, requireCredential } from '../plugins/auth.js';
import { betterezErrors } from '../schemas.js';
import { pageLinks, pageOf, PageQuery } from './paging.js';

const security = [{ bearer: [] }, { apiKey: [] }] as Record<string, string[]>[];
const tags = ['payment-terminals'];

/**
 * Types only: the field rules (protocol ws|wss, ip, 24-hex locationId, partNumber
 * starting with TRD, non-empty serialNumber) are checked by the domain, which names
 * every broken one in a 400 VALIDATION_ERROR.
 */
const PaymentTerminalFields = Type.Object(
  {
    name: Type.String({ description: 'Unique within the account (409 PAYMENT_TERMINAL_NAME_ALREADY_EXISTS).' }),
    protocol: Type.String({ description: '"ws" or "wss".', examples: ['wss'] }),
    ip: Type.String({ description: 'An IPv4 or IPv6 address.' }),
    locationId: Type.String({ description: '24 hexadecimal characters.' }),
    partNumber: Type.String({ description: 'Starts with "TRD".' }),
    serialNumber: Type.String({ description: 'Required, not empty.' }),
  },
  {
    description: '_id, accountId, createdBy, updatedBy, createdAt and updatedAt are set by Herald; sent, they are ignored.',
    examples: [
      {
        name: 'Terminal 1',
        protocol: 'ws',
        ip: '192.168.10.10',
        locationId: '5f243d100617680712e78dd7',
        partNumber: 'TRD30110877A',
        serialNumber: 'SN12345',
      },
    ],
  },
);

/** What a client sends to create or update: the terminal, wrapped as Betterez's clients wrap it. */
const PaymentTerminalBody = Type.Object(
  { paymentTerminal: PaymentTerminalFields },
  { description: 'btrz-api-client sends `{"paymentTerminal": {...}}`.' },
);
const OneTerminal = Type.Object({ paymentTerminal: PaymentTerminalSchema });
const TerminalList = Type.Object({
  paymentTerminals: Type.Array(PaymentTerminalSchema),
  next: Type.String({ description: 'The URL of the next page, or "" on the last.' }),
  previous: Type.String({ description: 'The URL of the previous page, or "" on the first.' }),
  count: Type.Integer({ description: 'How many terminals there are in all pages.' }),
});

const IdParams = Type.Object({
  paymentTerminalId: Type.String({ description: '24 hexadecimal characters; anything else is 400 INVALID_PAYMENT_TERMINAL_ID.' }),
});


const idOf = (req: FastifyRequest) => (req.params as { paymentTerminalId: string }).paymentTerminalId;
const inputOf = (req: FastifyRequest) => (req.body as { paymentTerminal: PaymentTerminalInput }).paymentTerminal;

/**
 * Runs a write whose input is the body's `paymentTerminal`: the domain names a broken
 * field relative to the terminal (`ip`), the answer relative to the body
 * (`paymentTerminal.ip`), as schema violations are.
 */
async function inBody<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof HeraldError && err.violations.length > 0 && err.errorType !== 'INVALID_PAYMENT_TERMINAL_ID') {
      const violations = err.violations.map((v) => ({ ...v, propertyName: `paymentTerminal.${v.propertyName}` }));
      throw new HeraldError(err.kind, err.errorType, err.message, violations);
    }
    throw err;
  }
}

/**
 * The Inventory API's payment-terminals resource, as Betterez's btrz-api-client calls
 * it: bodies wrapped in `paymentTerminal`, the list paged in `{paymentTerminals, next,
 * previous, count}`, errors with Betterez's `code`, reads authenticated by `x-api-key`
 * alone. Confined to the credential's organization (READ:PAYMENT_TERMINAL /
 * WRITE:PAYMENT_TERMINAL). Emits paymentTerminals.created / .updated / .deleted
 * (Inventory envelope). Served at `/payment-terminals` (a client given only a base URL)
 * and `/inventory/payment-terminals` (one keeping the production `/inventory` prefix).
 */
export default async function paymentTerminalRoutes(app: FastifyInstance, opts: { ctx: DomainContext; hide?: boolean }) {
  const { ctx } = opts;
  requireCredential(app, ctx, { apiKeyHeader: true });
  const common = { tags, security, hide: opts.hide };

  app.post(
    '/payment-terminals',
    {
      config: { scopes: ['WRITE:PAYMENT_TERMINAL'] },
      schema: {
        ...common,
        summary: 'Create a payment terminal. Emits paymentTerminals.created.',
        body: PaymentTerminalBody,
        response: { 200: OneTerminal, ...betterezErrors(400, 401, 403, 409) },
      },
    },
    async (req) => ({
      paymentTerminal: await inBody(() => createPaymentTerminal(ctx, actorOf(req), inputOf(req))),
    }),
  );

  app.get(
    '/payment-terminals',
    {
      config: { scopes: ['READ:PAYMENT_TERMINAL'] },
      schema: {
        ...common,
        summary: "List the organization's payment terminals, a page at a time.",
        querystring: PageQuery,
        response: { 200: TerminalList, ...betterezErrors(400, 401, 403) },
      },
    },
    async (req) => {
      const page = pageOf(req);
      const r = await pageOfPaymentTerminals(ctx.db, actorOf(req), page);
      return { paymentTerminals: r.paymentTerminals, ...pageLinks(req, ctx.config, page, r.count), count: r.count };
    },
  );

  app.get(
    '/payment-terminals/:paymentTerminalId',
    {
      config: { scopes: ['READ:PAYMENT_TERMINAL'] },
      schema: {
        ...common,
        summary: 'Get a payment terminal.',
        params: IdParams,
        response: { 200: OneTerminal, ...betterezErrors(400, 401, 403, 404) },
      },
    },
    async (req) => ({ paymentTerminal: await getPaymentTerminal(ctx.db, actorOf(req), idOf(req)) }),
  );

  app.put(
    '/payment-terminals/:paymentTerminalId',
    {
      config: { scopes: ['WRITE:PAYMENT_TERMINAL'] },
      schema: {
        ...common,
        summary: "Replace a payment terminal's fields. Emits paymentTerminals.updated.",
        params: IdParams,
        body: PaymentTerminalBody,
        response: { 200: OneTerminal, ...betterezErrors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => ({
      paymentTerminal: await inBody(() => replacePaymentTerminal(ctx, actorOf(req), idOf(req), inputOf(req))),
    }),
  );

  app.delete(
    '/payment-terminals/:paymentTerminalId',
    {
      config: { scopes: ['WRITE:PAYMENT_TERMINAL'] },
      schema: {
        ...common,
        summary: 'Delete a payment terminal. Emits paymentTerminals.deleted with data {paymentTerminalId}.',
        params: IdParams,
        response: { 200: Type.Object({ paymentTerminalId: Type.String() }), ...betterezErrors(400, 401, 403, 404) },
      },
    },
    async (req) => ({ paymentTerminalId: await removePaymentTerminal(ctx, actorOf(req), idOf(req)) }),
  );
}
