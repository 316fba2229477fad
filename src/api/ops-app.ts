import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import errorHandler from './plugins/error-handler.js';
import metrics from './plugins/metrics.js';
import healthRoutes from './routes/health.js';
import { ErrorBodySchema } from './schemas.js';

/**
 * The operations listener of a process without the API (`herald worker`): `/healthz`,
 * `/readyz` and `/metrics` (its delivery counters included), the same routes the API
 * serves, so a worker-only process is probed and scraped like any other.
 */
export async function buildOpsApp(deps: { db: Db; log: Logger; registry: Registry }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  app.addSchema(ErrorBodySchema);
  await app.register(errorHandler);
  await app.register(metrics, { registry: deps.registry });
  await app.register(healthRoutes, { db: deps.db });
  return app;
}
