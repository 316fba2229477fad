import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  MAX_KEY_OVERLAP_SECONDS,
  rotateSigningKey,
  updateSubscription,
  type DestinationProbe,
  type SubscriptionInput,
} from '../../domain/subscriptions.js';
import { HeraldError, badRequest, notFound } from '../../errors.js';
import { principalOf, requireCredential, resolveOrganizationUuid } from '../plugins/auth.js';
import { errors, OrgParams } from '../schemas.js';
import messageRoutes from './messages.js';

const SPEC_CREATE_EXAMPLE = {
  uuid: 'f02f80f8-8f35-11eb-8dcd-0242ac130003',
  transportName: 'WEBHOOK',
  eventNames: ['ProductUpdated'],
  destination: 'https://webhook.site/f62e2311-1232-4d8f-b75e-80e9ce013dd4',
  contactEmail: 'your_email@domain.com',
};

const SubscriptionSchema = Type.Object(
  {
    uuid: Type.String({ description: 'Unique identifier of the subscription, a version-1 UUID.' }),
    transportName: Type.String({ description: 'Only WEBHOOK.' }),
    eventNames: Type.Array(Type.String(), { description: 'Subscribed events; empty means every event.' }),
    updated: Type.String({ description: 'When the subscription was last updated (UTC, ISO-8601).' }),
    destination: Type.String({ description: 'The HTTPS URL messages are POSTed to.' }),
    contactEmail: Type.String({ description: 'Where warnings about failing deliveries are mailed.' }),
    status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('FAILING')]),
    signingKey: Type.String({ description: 'Key of the X-iZettle-Signature and webhook-signature headers.' }),
    ordered: Type.Optional(
      Type.Literal(true, { description: "Herald's extension: present (true) only for an ordered (FIFO) subscription." }),
    ),
  },
  {
    $id: 'Subscription',
    examples: [
      {
        ...SPEC_CREATE_EXAMPLE,
        updated: '2021-03-29T16:31:47.087Z',
        status: 'ACTIVE',
        signingKey: 'zLzClQLQN8yfH8aEjONeXzgJRAHR0zpD7RonFCpizujCUCectBlln0vFArTbLPYa',
      },
    ],
  },
);

const fields = {
  transportName: Type.Optional(Type.String({ description: 'Must be WEBHOOK.' })),
  eventNames: Type.Optional(Type.Array(Type.String(), { description: 'Event names; an empty array subscribes to every event.' })),
  destination: Type.Optional(Type.String({ description: 'A publicly reachable https:// URL.' })),
  contactEmail: Type.Optional(Type.String({ description: 'A valid address of at most 512 characters.' })),
  ordered: Type.Optional(
    Type.Boolean({
      description:
        "Herald's extension (FIFO): true delivers this subscription's messages one at a time, in the order their events were accepted; a message waiting for a retry holds back the ones after it. Default false.",
    }),
  ),
};
const CreateBody = Type.Object(
  { uuid: Type.Optional(Type.String({ description: 'A version-1 UUID.' })), ...fields },
  { examples: [SPEC_CREATE_EXAMPLE], description: 'Fields may also be sent as query parameters.' },
);
const UpdateBody = Type.Object(fields, {
  examples: [{ eventNames: ['ProductUpdated', 'CardPaymentInvalid'] }],
  description: 'Every field is optional. Fields may also be sent as query parameters.',
});
const SubParams = Type.Object({
  organizationUuid: OrgParams.properties.organizationUuid,
  subscriptionUuid: Type.String(),
});

// The spec answers 400 for some fields and 422 for others, so the domain validates
// body and query itself; the schemas above document them (OpenAPI) without enforcing.
const documentOnly = () => () => true;

/** Request fields: the JSON body, with query parameters filling what the body leaves out. */
function inputOf(req: FastifyRequest): SubscriptionInput {
  const body = req.body;
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    throw badRequest('VALIDATION_ERROR', 'the request body must be a JSON object', [
      { propertyName: 'body', developerMessage: 'must be a JSON object' },
    ]);
  }
  const query = (req.query ?? {}) as Record<string, unknown>;
  const fromQuery: SubscriptionInput = {};
  for (const key of ['uuid', 'transportName', 'destination', 'contactEmail', 'ordered'] as const) {
    const v = query[key];
    if (v !== undefined) fromQuery[key] = Array.isArray(v) ? v[0] : v;
  }
  const names = query.eventNames;
  if (names !== undefined) {
    // ?eventNames=A&eventNames=B, ?eventNames=A,B, or ?eventNames= (every event).
    const list = (Array.isArray(names) ? names : [names]).flatMap((n) => String(n).split(',')).filter((n) => n !== '');
    fromQuery.eventNames = list;
  }
  return { ...fromQuery, ...((body as SubscriptionInput | undefined) ?? {}) };
}

/** The Pusher API: /organizations/{organizationUuid}/subscriptions. */
export default async function subscriptionRoutes(app: FastifyInstance, opts: { ctx: DomainContext; probe: DestinationProbe }) {
  const { ctx, probe } = opts;
  requireCredential(app, ctx, { consoleSession: true });
  app.addSchema(SubscriptionSchema);
  await app.register(messageRoutes, { ctx, admin: false });
  const tags = ['subscriptions (Pusher API)'];
  // The Console's session too (docs/console.md): its cookie is the key's access token.
  const security: Record<string, string[]>[] = [{ bearer: [] }, { consoleSession: [] }];

  app.post(
    '/organizations/:organizationUuid/subscriptions',
    {
      validatorCompiler: documentOnly,
      config: { validatesOwnInput: true },
      schema: {
        tags,
        security,
        summary: 'Create a subscription.',
        description:
          'Herald POSTs a signed TestMessage to the destination first; the destination must answer 2xx. ' +
          '400 when uuid or transportName is missing or invalid, an event name is unknown, the uuid exists, or the ' +
          'destination cannot be reached (DESTINATION_NOT_ACCESSIBLE); 422 when destination or contactEmail is missing ' +
          'or invalid; 403 when a scope is missing; 500 DESTINATION_RESPONDED_WITH_ERROR_CODE when the destination ' +
          'answers the test message with a non-2xx status.',
        params: OrgParams,
        querystring: Type.Object({ ...fields, uuid: Type.Optional(Type.String()) }),
        body: CreateBody,
        response: { 200: Type.Ref('Subscription'), ...errors(400, 401, 403, 422, 500) },
      },
    },
    async (req) => {
      const org = resolveOrganizationUuid(req, (req.params as { organizationUuid: string }).organizationUuid);
      return createSubscription(ctx, probe, principalOf(req), org, inputOf(req));
    },
  );

  app.get(
    '/organizations/:organizationUuid/subscriptions',
    {
      schema: {
        tags,
        security,
        summary: "List the organization's subscriptions.",
        params: OrgParams,
        response: { 200: Type.Array(Type.Ref('Subscription')), ...errors(401, 403) },
      },
    },
    async (req) => {
      const org = resolveOrganizationUuid(req, (req.params as { organizationUuid: string }).organizationUuid);
      return listSubscriptions(ctx, principalOf(req), org);
    },
  );

  app.put(
    '/organizations/:organizationUuid/subscriptions/:subscriptionUuid',
    {
      validatorCompiler: documentOnly,
      config: { validatesOwnInput: true },
      schema: {
        tags,
        security,
        summary: 'Update a subscription.',
        description:
          'Every field is optional; answers 200 with no body. 404 SUBSCRIPTION_NOT_FOUND; 400 for unknown event ' +
          'names; 422 for an empty or invalid destination; 403 for events whose scope is missing. The signing key never changes.',
        params: SubParams,
        querystring: Type.Object(fields),
        body: UpdateBody,
        response: { 200: Type.Null({ description: 'No body.' }), ...errors(400, 401, 403, 404, 405, 422) },
      },
    },
    async (req, reply) => {
      const { organizationUuid, subscriptionUuid } = req.params as { organizationUuid: string; subscriptionUuid: string };
      const org = resolveOrganizationUuid(req, organizationUuid);
      await updateSubscription(ctx, principalOf(req), org, subscriptionUuid, inputOf(req));
      return reply.status(200).send();
    },
  );

  app.post(
    '/organizations/:organizationUuid/subscriptions/:subscriptionUuid/rotate-signing-key',
    {
      validatorCompiler: documentOnly,
      config: { validatesOwnInput: true },
      schema: {
        tags,
        security,
        summary: 'Rotate the signing key (Herald extension).',
        description:
          'Gives the subscription a new signing key and keeps the current one valid beside it for overlapSeconds ' +
          '(default 86400, at most 604800; 0 ends it at once). Meanwhile webhook-signature carries both signatures, ' +
          'X-Herald-Signature both v1 values, and X-iZettle-Signature the previous key\'s (docs/signatures.md). ' +
          '400 VALIDATION_ERROR for another overlap; 404 SUBSCRIPTION_NOT_FOUND; 403 when a scope of its events is missing.',
        params: SubParams,
        body: Type.Optional(Type.Object({ overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_KEY_OVERLAP_SECONDS })) })),
        response: {
          200: Type.Object({
            signingKey: Type.String({ description: 'The new key; GET shows it from now on.' }),
            previousSigningKeyValidUntil: Type.String({ format: 'date-time', description: 'Until when deliveries are also signed with the previous key.' }),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const { organizationUuid, subscriptionUuid } = req.params as { organizationUuid: string; subscriptionUuid: string };
      const org = resolveOrganizationUuid(req, organizationUuid);
      const body: unknown = req.body ?? {};
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw badRequest('VALIDATION_ERROR', 'the body must be a JSON object: {"overlapSeconds": <seconds>}');
      }
      return rotateSigningKey(ctx, principalOf(req), org, subscriptionUuid, body as { overlapSeconds?: unknown });
    },
  );

  app.put(
    '/organizations/:organizationUuid/subscriptions',
    { schema: { hide: true, params: OrgParams } },
    async () => {
      throw new HeraldError('method_not_allowed', 'METHOD_NOT_ALLOWED', 'the subscription uuid is missing from the path: PUT /organizations/{organizationUuid}/subscriptions/{subscriptionUuid}');
    },
  );

  const remove = async (req: FastifyRequest, reply: { status(code: number): { send(): unknown } }) => {
    const { organizationUuid, subscriptionUuid } = req.params as { organizationUuid: string; subscriptionUuid: string };
    const org = resolveOrganizationUuid(req, organizationUuid);
    await deleteSubscription(ctx, principalOf(req), org, subscriptionUuid);
    return reply.status(204).send();
  };
  const deleteSchema = (summary: string) => ({
    tags,
    security,
    summary,
    params: SubParams,
    response: { 204: Type.Null({ description: 'Deleted.' }), ...errors(401, 403, 404) },
  });
  app.delete('/organizations/:organizationUuid/subscriptions/:subscriptionUuid', { schema: deleteSchema('Delete a subscription.') }, remove);
  app.delete(
    '/organizations/:organizationUuid/subscriptions/uuid/:subscriptionUuid',
    { schema: deleteSchema('Delete a subscription (the path the spec\'s example uses; same as the one above).') },
    remove,
  );
  app.delete('/organizations/:organizationUuid/subscriptions', { schema: { hide: true, params: OrgParams } }, async () => {
    throw notFound('SUBSCRIPTION_NOT_FOUND', 'the subscription uuid is missing from the path');
  });
}
