import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';

/** HTTP metrics and `GET /metrics` (Prometheus text) from the process's registry. */
export default fp(
  async function metrics(app: FastifyInstance, opts: { registry: Registry }) {
    const { registry } = opts;
    const requests = new Counter({
      name: 'herald_http_requests_total',
      help: 'HTTP requests answered, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'HTTP request duration.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    app.addHook('onResponse', async (req, reply) => {
      // The route pattern, never the raw URL: uuids would explode the label set.
      const route = req.routeOptions.url ?? 'unmatched';
      requests.inc({ method: req.method, route, status: reply.statusCode });
      duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'herald-metrics' },
);
