import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import errorHandler from './plugins/error-handler.js';
import metrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import { requireAdminToken } from './plugins/admin-auth.js';
import adminOrganizationRoutes from './routes/admin/organizations.js';
import healthRoutes from './routes/health.js';
import { ErrorBodySchema } from './schemas.js';

/** Everything the HTTP API needs, passed in (no module singletons). */
export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  clock: Clock;
  registry: Registry;
  version: string;
}

/**
 * Builds the Fastify app: external plugins, then Herald's plugins (errors, metrics,
 * OpenAPI), then routes. Returns it ready to listen or inject.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Errors are logged by the error handler; request bodies (which may hold secrets) never.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
  });

  app.addSchema(ErrorBodySchema);
  await app.register(errorHandler);
  await app.register(formbody);
  await app.register(metrics, { registry: deps.registry });
  await app.register(openapi, { version: deps.version });

  const ctx: DomainContext = { db: deps.db, clock: deps.clock, config: deps.config, log: deps.log };

  await app.register(healthRoutes, { db: deps.db });

  // Admin API: every route in this context requires the admin token.
  await app.register(async (admin) => {
    requireAdminToken(admin, deps.config.adminToken);
    await admin.register(adminOrganizationRoutes, { ctx });
  });

  return app;
}
