import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import type { SecretBox } from '../domain/sealed-secrets.js';
import { validatePayload } from '../domain/payload-validation.js';
import type { DestinationProbe } from '../domain/subscriptions.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import errorHandler, { clientErrorHandler, frameworkErrorHandler } from './plugins/error-handler.js';
import inputRules, { jsonParseDepthError, jsonSizeError } from './plugins/input-rules.js';
import consolePages from './plugins/console.js';
import closeUnusedConnections from './plugins/close-unused-connections.js';
import lingeringClose from './plugins/lingering-close.js';
import requestLog, { requestIdOf } from './plugins/request-log.js';
import metrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import rateLimits from './plugins/rate-limit.js';
import { requireAdminToken } from './plugins/admin-auth.js';
import { requireCredential } from './plugins/auth.js';
import consoleSessionRoutes from './routes/console-session.js';
import adminApiKeyRoutes from './routes/admin/api-keys.js';
import adminAppConnectionRoutes from './routes/admin/app-connections.js';
import adminDeliveryRoutes from './routes/admin/delivery.js';
import adminEventRoutes from './routes/admin/events.js';
import adminOrganizationRoutes from './routes/admin/organizations.js';
import listenerRoutes from './routes/listeners.js';
import messageRoutes from './routes/messages.js';
import eventCatalogRoutes from './routes/events.js';
import healthRoutes from './routes/health.js';
import inventoryRoutes from './routes/inventory.js';
import organizationRoutes from './routes/organization.js';
import paymentTerminalRoutes from './routes/payment-terminals.js';
import productRoutes from './routes/products.js';
import purchaseRoutes from './routes/purchases.js';
import subscriptionRoutes from './routes/subscriptions.js';
import subscriptionStatsRoutes from './routes/subscription-stats.js';
import tokenRoutes from './routes/token.js';
import undeliveredRoutes from './routes/undelivered.js';
import userRoutes from './routes/users.js';
import { ERROR_BODY_SCHEMAS } from './schemas.js';

/** Everything the HTTP API needs, passed in (no module singletons). */
export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  clock: Clock;
  registry: Registry;
  version: string;
  /** Seals and opens secrets at rest (subscription signing keys, token signing keys). */
  secrets: SecretBox;
  /** Sends the signed TestMessage when a subscription is created (the delivery engine's). */
  probeDestination: DestinationProbe;
}

/**
 * Builds the Fastify app: external plugins, then Herald's plugins (errors, metrics,
 * OpenAPI), then routes. Returns it ready to listen or inject.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Errors are logged by the error handler; request bodies (which may hold secrets) never.
    // One id per request, the caller's X-Request-Id if sane (plugins/request-log.ts),
    // labelling every line of the request as requestId.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    // Over it: 413, which reaches even a client still streaming its body (lingeringClose).
    bodyLimit: 1024 * 1024,
    // The client IP that per-IP rate limits count by, when a proxy stands in front.
    trustProxy: deps.config.trustProxy,
    // The original's clients call `token/`, `.../subscriptions/` and `.../{uuid}/`
    // (SwagPayPal): a trailing slash names the same route, with the same status rules.
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
  });

  // Many HTTP clients send Content-Type: application/json on a DELETE or PUT with no
  // body; the Pusher API's clients do. An empty JSON body is "no body", not a 400.
  // Non-empty bodies keep Fastify's parser and its prototype-poisoning protection.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    const tooDeep = jsonParseDepthError(text);
    if (tooDeep) return done(tooDeep, undefined);
    return parseJson(req, text, (err, value) => {
      if (err) return done(err, undefined);
      const tooBig = jsonSizeError(value);
      return tooBig ? done(tooBig, undefined) : done(null, value);
    });
  });

  for (const schema of ERROR_BODY_SCHEMAS) app.addSchema(schema);
  await app.register(errorHandler);
  // Parsed before the rate limits, which count a Console session as its credential.
  await app.register(cookie);
  // First of the root hooks: a request over its rate costs no credential lookup, no body.
  await app.register(rateLimits, { config: deps.config, clock: deps.clock });
  await app.register(lingeringClose);
  await app.register(closeUnusedConnections);
  await app.register(inputRules);
  await app.register(formbody);
  await app.register(metrics, { registry: deps.registry });
  await app.register(requestLog, { level: deps.config.requestLogLevel as 'info' | 'debug' | 'off' });
  await app.register(openapi, { version: deps.version });

  const ctx: DomainContext = { db: deps.db, clock: deps.clock, config: deps.config, log: deps.log, secrets: deps.secrets };

  await app.register(healthRoutes, { db: deps.db });
  await app.register(eventCatalogRoutes);
  await app.register(tokenRoutes, { ctx });
  // The Console: its sign-in, and its pages (which call the routes below like any client).
  await app.register(consoleSessionRoutes, { ctx });
  await app.register(consolePages);
  await app.register(async (scoped) => {
    requireCredential(scoped, ctx);
    await scoped.register(userRoutes);
  });
  await app.register(subscriptionRoutes, { ctx, probe: deps.probeDestination });
  await app.register(listenerRoutes, { ctx });
  await app.register(subscriptionStatsRoutes, { ctx });
  // Business APIs that emit the spec's events (each route plugin requires a credential).
  await app.register(productRoutes, { ctx });
  await app.register(inventoryRoutes, { ctx });
  await app.register(purchaseRoutes, { ctx });
  await app.register(organizationRoutes, { ctx });
  await app.register(paymentTerminalRoutes, { ctx });
  // The same resource under the production prefix of Betterez's Inventory API.
  await app.register(paymentTerminalRoutes, { ctx, hide: true, prefix: '/inventory' });
  await app.register(undeliveredRoutes, { ctx });

  // Admin API: every route in this context requires the admin token.
  await app.register(async (admin) => {
    requireAdminToken(admin, ctx);
    await admin.register(adminOrganizationRoutes, { ctx });
    await admin.register(adminEventRoutes, { ctx, validatePayload });
    await admin.register(messageRoutes, { ctx, admin: true });
    await admin.register(adminApiKeyRoutes, { ctx });
    await admin.register(adminAppConnectionRoutes, { ctx });
    await admin.register(adminDeliveryRoutes, { ctx });
  });

  return app;
}
