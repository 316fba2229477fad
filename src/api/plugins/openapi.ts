import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { withCommonErrors } from '../openapi-common-errors.js';
import type { OpenApiDocument } from '../openapi-document.js';
import { withWebhooks } from '../openapi-webhooks.js';
import { OPERATION_IDS, operationKey, PUBLIC_OPERATIONS } from '../operation-ids.js';

/**
 * OpenAPI 3.1 generated from the route schemas, served at GET /openapi.json, and a
 * readable page at GET /docs (Swagger UI, Herald's, every asset served from here). Must be
 * registered before the routes it describes. The document passes Redocly's and
 * Spectral's rulesets with no warning (redocly.yaml, .spectral.yaml,
 * test/api/openapi-lint.test.ts).
 */

type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

/** The guides, linked from the document's description (paths in Herald's repository). */
const GUIDES: readonly [file: string, title: string, what: string][] = [
  ['docs/pusher-api.md', 'The Pusher API', 'the subscription endpoints, their errors, where Herald differs from the spec'],
  ['docs/auth.md', 'Credentials', 'API keys, access tokens, app connections, scopes, the admin token'],
  ['docs/events.md', 'Events', 'every event, its trigger, scope and payload'],
  ['docs/receiving.md', 'Receiving webhooks', 'verifying and answering deliveries, receiver SDKs'],
  ['docs/console.md', 'The Console', 'the web page at /console/: views, sign-in, sessions, CSRF, its front-end stack'],
  ['docs/cli.md', 'The herald command', 'listen, trigger, tail, resend, subscriptions, rotate-key, org, key'],
  ['docs/signatures.md', 'Signatures', 'the three signature headers, key rotation, a worked example'],
  ['docs/delivery.md', 'Delivery', 'the outbox, retries, failing subscriptions, mail, the attempt log'],
  ['docs/operations.md', 'Operations', 'faults, input rules, limits, rate limits'],
  ['docs/configuration.md', 'Configuration', 'every HERALD_* setting'],
  ['docs/compatibility.md', 'Compatibility', "the original's clients and what each needs"],
  ['docs/architecture.md', 'Architecture', "Herald's layout"],
  ['docs/performance.md', 'Performance', 'the benchmark and what it measured'],
];

const DESCRIPTION = [
  'Signed, durable webhook delivery. Implements the Pusher API (webhook subscriptions), the event payloads, ' +
    'the business APIs that emit them, and the Inventory API payment-terminals resource.',
  '**Webhooks** lists what Herald POSTs to subscribers: one entry per event, with its envelope, its payload and the signature headers.',
  '**Errors**: every 4xx and 5xx carries `{"developerMessage", "errorType", "violations"}` (ErrorBody), plus Betterez\'s ' +
    '`code` and `message` on the Inventory API\'s paths (BetterezErrorBody); the schema of each status (Error404...) lists the errorTypes it carries.',
  `**Guides** (Herald's repository, \`docs/\`):\n\n${GUIDES.map(([file, title, what]) => `- [${title}](${file}): ${what}`).join('\n')}`,
].join('\n\n');

/** The tags, in the order the reference page shows them. */
const TAGS = [
  { name: 'subscriptions (Pusher API)', description: 'Webhook subscriptions of an organization, as the Pusher API (docs/pusher-api.md).' },
  { name: 'attempt log', description: "A subscription's messages, every delivery attempt, and resend (docs/delivery.md)." },
  { name: 'listen (Herald extension)', description: 'Listeners: `herald listen` receives the organization\'s events on a developer\'s machine.' },
  { name: 'events', description: 'The event catalog: every event, its scope and envelope (docs/events.md).' },
  { name: 'webhooks', description: 'What Herald POSTs to subscribers: envelopes, payloads, signatures (docs/receiving.md, docs/signatures.md).' },
  { name: 'oauth', description: 'The token endpoint, and who a credential acts as (docs/auth.md).' },
  { name: 'products', description: 'The product library: emits ProductCreated, ProductUpdated, ProductDeleted.' },
  { name: 'inventory', description: 'Inventory tracking and balances: emits InventoryTrackingStarted/Stopped and InventoryBalanceChanged.' },
  { name: 'purchases', description: 'Purchases: emits PurchaseCreated (and InventoryBalanceChanged for tracked products).' },
  { name: 'organization', description: "The organization's details: emits OrganizationUpdated." },
  { name: 'payment-terminals', description: "The Inventory API's payment terminals, as Betterez's clients call them: emits paymentTerminals.*." },
  { name: 'undelivered webhooks', description: "Betterez's undelivered webhooks: messages not delivered (yet), and resending them." },
  { name: 'console', description: "The Console's sign-in: a session cookie for the web page at /console/ (docs/console.md)." },
  { name: 'admin', description: 'The admin API (the admin token): organizations, credentials, publishing events, mails.' },
  { name: 'operations', description: 'Probes (docs/operations.md).' },
];

/**
 * What credential an operation needs, for its description: the security schemes, the
 * scopes the route requires (`config.scopes`: security requirements cannot carry them for
 * an http scheme), and the organization in the path.
 */
function credentialOf(security: readonly SecurityRequirement[], scopes: readonly string[], url: string): string {
  if (security.length === 0) return 'No credential needed.';
  if (security.some((r) => 'admin' in r)) return 'Needs the admin token: `Authorization: Bearer <HERALD_ADMIN_TOKEN>` (docs/auth.md).';
  const how = security.some((r) => 'apiKey' in r)
    ? 'an access token or API key as `Authorization: Bearer`, or an API key as `x-api-key`'
    : 'an access token or API key as `Authorization: Bearer`';
  const org = url.includes(':organizationUuid') ? " `{organizationUuid}` is the credential's organization, or `self`." : '';
  return `Needs ${how}${scopes.length > 0 ? `, holding ${scopes.join(' and ')}` : ''} (docs/auth.md).${org}`;
}

/** Each operation's id (from the one table), `security: []` when it takes no credential, and a description that says which it needs. */
function transform({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) {
  if (!schema || schema.hide) return { schema, url };
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const operationId = OPERATION_IDS[operationKey(methods[0]!, url)];
  if (!operationId) return { schema, url };
  const isPublic = PUBLIC_OPERATIONS.has(operationId);
  const credential = credentialOf(isPublic ? [] : (schema.security ?? []), route.config?.scopes ?? [], url);
  const description = [(schema as { description?: string }).description, credential].filter(Boolean).join('\n\n');
  return { schema: { ...schema, operationId, description, ...(isPublic ? { security: [] } : {}) }, url };
}

/** Herald's mark: an H on a rounded square. */
const MARK = '<rect x="2" y="4" width="32" height="32" rx="7" fill="#0f766e"/><path d="M11 12v16M25 12v16M11 20h14" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/>';
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="40" viewBox="0 0 150 40">${MARK}<text x="44" y="28" font-family="system-ui, sans-serif" font-size="22" font-weight="700" fill="#fff">Herald</text></svg>`;
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" width="36" height="40" viewBox="0 0 36 40">${MARK}</svg>`;
/** The top bar in Herald's colour, without Swagger UI's box for loading another document. */
const CSS = '.swagger-ui .topbar { background-color: #134e4a; } .swagger-ui .topbar .download-url-wrapper { display: none; }';

export default fp(
  async function openapi(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      // Shared schemas under their own names (Subscription, ErrorBody...), not def-0, def-1.
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
      transform,
      // The error answers every route shares, and the webhooks Herald sends.
      transformObject: (documentObject) => withWebhooks(withCommonErrors((documentObject as { openapiObject: OpenApiDocument }).openapiObject)),
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Herald',
          version: opts.version,
          description: DESCRIPTION,
          // As package.json says: Herald is not published under a license.
          license: { name: 'UNLICENSED' },
        },
        servers: [{ url: '/', description: 'This Herald (the server answering this document).' }],
        tags: TAGS,
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: "An OAuth access token from POST /token, or an API key. An operation's scopes are the ones the credential must hold.",
            },
            admin: { type: 'http', scheme: 'bearer', description: 'The admin token (HERALD_ADMIN_TOKEN).' },
            apiKey: {
              type: 'apiKey',
              in: 'header',
              name: 'x-api-key',
              description: "An API key in Betterez's header (the Inventory API routes; alone or beside a Bearer credential).",
            },
            consoleSession: {
              type: 'apiKey',
              in: 'cookie',
              name: 'herald_console',
              description:
                "The Console's session (POST /console/session sets it, HttpOnly, SameSite=Strict; `__Host-herald_console` over HTTPS). An organization's is taken by the subscription routes (the Pusher API's, their messages, attempts, stats, test events), an operator's by the admin routes, when the request has no Authorization header; a change (any method but GET/HEAD) must also send the session's csrfToken in x-csrf-token.",
            },
          },
        },
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list', deepLinking: true },
      theme: {
        title: 'Herald API reference',
        favicon: [{ filename: 'herald.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: FAVICON }],
        css: [{ filename: 'herald.css', content: CSS }],
      },
      logo: { type: 'image/svg+xml', content: LOGO, href: '/docs', target: '_self' },
      // The page shares its origin with the Console, whose session cookie the browser
      // would send along: it may run nothing but its own scripts (the plugin's policy,
      // with its inline scripts' hashes), load nothing from elsewhere, and be framed by
      // no one. Swagger UI sets inline style attributes, so those stay allowed; HTTP
      // deployments keep working (no upgrade-insecure-requests).
      staticCSP: true,
      transformStaticCSP: (header) =>
        header
          .replace(/style-src 'self' https:/, "style-src 'self' 'unsafe-inline'")
          .replace("font-src 'self' https: data:", "font-src 'self' data:")
          .replace(' validator.swagger.io', '')
          .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
          .replace(/\s*upgrade-insecure-requests;/, ''),
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'herald-openapi' },
);
