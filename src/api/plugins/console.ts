import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';

/**
 * The Console's files (console/, bundled by `npm run build` into dist/console/), under
 * /console/. The same place from src/ (tsx) and dist/: both are three levels below the
 * package. Every asset is Herald's own (no CDN); the page may load nothing else (CSP).
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export default async function consolePages(app: FastifyInstance, opts: { dir?: string } = {}) {
  const dir = opts.dir ?? CONSOLE_DIR;
  if (!existsSync(`${dir}/index.html`)) {
    // Not built (a checkout run with tsx before `npm run build`): say so rather than 404 silently.
    app.get('/console/*', { schema: { hide: true } }, async () => {
      throw notFound('CONSOLE_NOT_BUILT', 'the Console is not built: run npm run build');
    });
    app.get('/console', { schema: { hide: true } }, async () => {
      throw notFound('CONSOLE_NOT_BUILT', 'the Console is not built: run npm run build');
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    // The page itself is the route below: Herald's router ignores trailing slashes, so
    // /console and /console/ are one route, and only /console/ resolves the page's
    // relative asset paths.
    index: false,
    redirect: false,
    // Unhashed file names: revalidate each time (ETag), so a new build is seen at once.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (reply) => {
      reply.headers(SECURITY_HEADERS);
    },
    schemaHide: true,
  });
  app.get('/console/', { schema: { hide: true } }, async (req, reply) => {
    if (!req.url.split('?')[0]!.endsWith('/')) return reply.redirect('/console/', 301);
    return reply.sendFile('index.html');
  });
}
