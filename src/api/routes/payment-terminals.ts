import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { PaymentTerminalSchema } from '../../domain/payload-schemas.js';
import type { Scope } from '../../domain/scopes.js';
import type { Actor } from '../../sources/actor.js';
import {
  allPaymentTerminals,
  createPaymentTerminal,
  getPaymentTerminal,
  removePaymentTerminal,
  replacePaymentTerminal,
  type PaymentTerminalInput,
} from '../../sources/payment-terminals.js';
import { principalOf, requireCredential, requireScopes } from '../plugins/auth.js';
import { errors } from '../schemas.js';

const security = [{ bearer: [] }];
const tags = ['payment-terminals'];

/**
 * Types only: the field rules (protocol ws|wss, ip, 24-hex locationId, partNumber
 * starting with TRD, non-empty serialNumber) are checked by the domain, which names
 * every broken one in a 400 VALIDATION_ERROR.
 */
const PaymentTerminalInputSchema = Type.Object(
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

const IdParams = Type.Object({
  paymentTerminalId: Type.String({ description: '24 hexadecimal characters; anything else is 400 VALIDATION_ERROR.' }),
});

function actorFor(req: FastifyRequest, scopes: Scope[]): Actor {
  const principal = principalOf(req);
  requireScopes(principal, scopes);
  return principal;
}

/**
 * The Inventory API's payment-terminals resource, confined to the credential's
 * organization (READ:PAYMENT_TERMINAL / WRITE:PAYMENT_TERMINAL). Emits
 * paymentTerminals.created / .updated / .deleted (Inventory envelope).
 */
export default async function paymentTerminalRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx);

  app.post(
    '/payment-terminals',
    {
      schema: {
        tags,
        security,
        summary: 'Create a payment terminal. Emits paymentTerminals.created.',
        body: PaymentTerminalInputSchema,
        response: { 201: PaymentTerminalSchema, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await createPaymentTerminal(ctx, actorFor(req, ['WRITE:PAYMENT_TERMINAL']), req.body as PaymentTerminalInput)),
  );

  app.get(
    '/payment-terminals',
    {
      schema: {
        tags,
        security,
        summary: 'List the organization\'s payment terminals.',
        response: { 200: Type.Array(PaymentTerminalSchema), ...errors(401, 403) },
      },
    },
    async (req) => allPaymentTerminals(ctx.db, actorFor(req, ['READ:PAYMENT_TERMINAL'])),
  );

  app.get(
    '/payment-terminals/:paymentTerminalId',
    {
      schema: {
        tags,
        security,
        summary: 'Get a payment terminal.',
        params: IdParams,
        response: { 200: PaymentTerminalSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) =>
      getPaymentTerminal(ctx.db, actorFor(req, ['READ:PAYMENT_TERMINAL']), (req.params as { paymentTerminalId: string }).paymentTerminalId),
  );

  app.put(
    '/payment-terminals/:paymentTerminalId',
    {
      schema: {
        tags,
        security,
        summary: 'Replace a payment terminal\'s fields. Emits paymentTerminals.updated.',
        params: IdParams,
        body: PaymentTerminalInputSchema,
        response: { 200: PaymentTerminalSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) =>
      replacePaymentTerminal(
        ctx,
        actorFor(req, ['WRITE:PAYMENT_TERMINAL']),
        (req.params as { paymentTerminalId: string }).paymentTerminalId,
        req.body as PaymentTerminalInput,
      ),
  );

  app.delete(
    '/payment-terminals/:paymentTerminalId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a payment terminal. Emits paymentTerminals.deleted with data {paymentTerminalId}.',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await removePaymentTerminal(ctx, actorFor(req, ['WRITE:PAYMENT_TERMINAL']), (req.params as { paymentTerminalId: string }).paymentTerminalId);
      return reply.status(204).send();
    },
  );
}
