import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../store/db.js';
import { isMigrated } from '../../store/migrate.js';
import { HeraldError } from '../../errors.js';

/** Liveness and readiness probes. */
export default async function healthRoutes(app: FastifyInstance, opts: { db: Db }) {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers and every migration is applied.',
        // 503 NOT_READY is documented with every route's 503 (the OpenAPI plugin's common errors).
        response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }) },
      },
    },
    async (req) => {
      try {
        await opts.db.query('select 1');
      } catch (err) {
        req.log.warn({ err }, 'readiness: database unreachable');
        throw new HeraldError('unavailable', 'NOT_READY', 'the database is unreachable');
      }
      if (!(await isMigrated(opts.db))) {
        throw new HeraldError('unavailable', 'NOT_READY', 'database migrations are not applied yet');
      }
      return { status: 'ready' as const, database: opts.db.kind };
    },
  );
}
