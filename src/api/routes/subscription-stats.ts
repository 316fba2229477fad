import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { DomainContext } from '../../domain/context.js';
import { STATS_CAP, subscriptionStats } from '../../domain/subscription-stats.js';
import { principalOf, requireCredential, resolveOrganizationUuid } from '../plugins/auth.js';
import { errors, OrgParams } from '../schemas.js';

const WindowSchema = (window: string) =>
  Type.Object(
    {
      messages: Type.Integer({ description: `Messages created in the ${window}.` }),
      delivered: Type.Integer({ description: 'Of those, delivered by now.' }),
      failed: Type.Integer({ description: 'Of those, failed by now (the retry schedule ran out, or the destination answered 410).' }),
      attempts: Type.Integer({ description: `Delivery attempts started in the ${window} (retries of older messages too).` }),
      successfulAttempts: Type.Integer({ description: 'Of those, answered 2xx.' }),
      capped: Type.Boolean({ description: `The ${window} held more than ${STATS_CAP} messages: the counts are of the newest ${STATS_CAP}.` }),
    },
    { description: `The ${window}'s traffic.` },
  );

/** GET /organizations/{organizationUuid}/subscription-stats: each subscription's health and traffic (the Console's list). */
export default async function subscriptionStatsRoutes(app: FastifyInstance, opts: { ctx: DomainContext }) {
  const { ctx } = opts;
  requireCredential(app, ctx, { consoleSession: true });
  app.get(
    '/organizations/:organizationUuid/subscription-stats',
    {
      schema: {
        tags: ['attempt log'],
        security: [{ bearer: [] }, { consoleSession: [] }],
        summary: "Each subscription's status and its messages and attempts over the last hour and day.",
        description:
          "Every live webhook subscription of the credential's mode whose events' scopes it holds (as GET .../subscriptions lists them), " +
          'or the one `subscription` names (404 when it is none of them, 403 when a scope of its events is missing). Attempts are looked ' +
          "for among the messages of the day and of the retry schedule's span before it (docs/delivery.md).",
        params: OrgParams,
        querystring: Type.Object({
          subscription: Type.Optional(Type.String({ format: 'uuid', description: 'Only this subscription.' })),
        }),
        response: {
          200: Type.Object({
            subscriptions: Type.Array(
              Type.Object({
                subscriptionUuid: Type.String(),
                status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('FAILING')]),
                failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
                  description: 'When its current failing period began; null while ACTIVE.',
                }),
                lastHour: WindowSchema('last hour'),
                lastDay: WindowSchema('last 24 hours'),
              }),
            ),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const org = resolveOrganizationUuid(req, (req.params as { organizationUuid: string }).organizationUuid);
      return subscriptionStats(ctx, principalOf(req), org, (req.query as { subscription?: string }).subscription);
    },
  );
}
