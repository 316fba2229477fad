/**
 * Receivers for the common servers, each keeping the raw body the signatures cover.
 * Typed structurally: the SDK depends on none of these servers.
 */
import { verifyDelivery, WebhookVerificationError, type HeadersInput, type Verified, type VerifyOptions } from './verify.js';

/** Herald's requests are small (a payload of at most 512 KiB, in its envelope). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface BodyOptions {
  /** A larger body is refused (`malformed_body`) without reading the rest. */
  maxBodyBytes?: number;
}

/** The request of node:http (IncomingMessage), or anything that streams its body and has headers. */
export interface NodeRequestLike extends AsyncIterable<Uint8Array | string> {
  headers: Record<string, string | string[] | undefined>;
}

/** Reads a node:http request's body as bytes, at most `maxBodyBytes`. */
export async function readBody(req: AsyncIterable<Uint8Array | string>, maxBodyBytes = DEFAULT_MAX_BODY_BYTES): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.length;
    if (size > maxBodyBytes) throw new WebhookVerificationError('malformed_body', `the body is larger than ${maxBodyBytes} bytes`);
    chunks.push(bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** node:http: reads the body and verifies it. */
export async function verifyNodeRequest(req: NodeRequestLike, options: VerifyOptions & BodyOptions): Promise<Verified> {
  return verifyDelivery(await readBody(req, options.maxBodyBytes), req.headers, options);
}

/** A fetch Request (Deno, Bun, Cloudflare Workers, Next.js route handlers, Node's fetch). */
export async function verifyRequest(request: Request, options: VerifyOptions & BodyOptions): Promise<Verified> {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) throw new WebhookVerificationError('malformed_body', `the body is larger than ${max} bytes`);
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.length > max) throw new WebhookVerificationError('malformed_body', `the body is larger than ${max} bytes`);
  return verifyDelivery(body, request.headers, options);
}

/** What a refused delivery is answered with: 400 and why (Herald logs the answer in its attempt log). */
export function refusal(err: WebhookVerificationError): { status: 400; body: { error: string; message: string } } {
  return { status: 400, body: { error: err.reason, message: err.message } };
}

interface ExpressRequestLike {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  webhook?: Verified;
}
interface ExpressResponseLike {
  status(code: number): { json(body: unknown): unknown };
}

/**
 * Express middleware. Put it after `express.raw({ type: 'application/json' })`, which
 * keeps the body as the Buffer the signatures cover:
 *
 *   app.post('/webhooks', express.raw({ type: 'application/json' }), expressVerifier({ keys }), (req, res) => {
 *     const delivery = req.webhook; ...
 *   });
 *
 * A delivery that does not verify is answered 400 with the reason; the route never sees it.
 */
export function expressVerifier(options: VerifyOptions): (req: ExpressRequestLike, res: ExpressResponseLike, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    if (!(req.body instanceof Uint8Array)) {
      next(new Error('expressVerifier needs the raw body: use express.raw({ type: "application/json" }) before it'));
      return;
    }
    verifyDelivery(req.body, req.headers, options).then(
      (delivery) => {
        req.webhook = delivery;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof WebhookVerificationError)) return next(err);
        const r = refusal(err);
        res.status(r.status).json(r.body);
      },
    );
  };
}

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  send(body?: unknown): unknown;
}
interface FastifyRequestLike {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}
interface FastifyInstanceLike {
  addContentTypeParser(
    type: string,
    opts: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (req: unknown, body: Uint8Array, done: (err: Error | null, body?: unknown) => void) => void,
  ): void;
  post(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * A Fastify plugin with one route, `POST <path>`, whose JSON bodies stay raw (in this
 * plugin's scope only), verified before `handler` sees them:
 *
 *   app.register(fastifyWebhooks({ keys, path: '/webhooks', handler: async (delivery) => { ... } }));
 *
 * A delivery that does not verify is answered 400 with the reason. The handler's return
 * value is the answer's body (200).
 */
export function fastifyWebhooks(
  options: VerifyOptions &
    BodyOptions & {
      path: string;
      handler: (delivery: Verified, request: FastifyRequestLike, reply: FastifyReplyLike) => unknown;
    },
): (instance: FastifyInstanceLike, opts: unknown, done: (err?: Error) => void) => void {
  return (instance, _opts, done) => {
    instance.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }, (_req, body, next) => next(null, body));
    instance.post(options.path, async (request, reply) => {
      let delivery: Verified;
      try {
        if (!(request.body instanceof Uint8Array)) throw new WebhookVerificationError('malformed_body', 'no JSON body');
        delivery = await verifyDelivery(request.body, request.headers as HeadersInput, options);
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        const r = refusal(err);
        return reply.code(r.status).send(r.body);
      }
      return options.handler(delivery, request, reply);
    });
    done();
  };
}
