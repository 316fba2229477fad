import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * An answer sent before its request's body has all arrived (413 for a body over the
 * limit, or a 401/403/429 refused before the body is read) reaches the client even
 * when the client sends the whole body before it reads anything.
 *
 * Without this, Node closes the connection as soon as such an answer (which carries
 * `Connection: close`) is written; the bytes the client is still sending then reach a
 * closed socket, the kernel answers them with a reset, and a client that reads only
 * after writing gets EPIPE or ECONNRESET instead of the answer (measured: a client
 * streaming 10 MB got EPIPE after 256 KB with a Content-Length, 1.1 MB chunked). So the
 * close is staged (RFC 9112 section 9.6, "lingering close"): the answer, then a
 * half-close (FIN), then the rest of the request is read and discarded until it ends,
 * and only then is the socket closed. A client that never stops cannot hold the
 * connection: the draining ends after LINGER_MAX_BYTES, LINGER_MAX_MS in all, or
 * LINGER_IDLE_MS without a byte, whichever comes first; and when Herald shuts down.
 */

/** Bytes of an unwanted body read and discarded at most: a 10 MB upload fits, with room. */
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;
/** How long a connection may linger in all (nginx's lingering_time: 30 s). */
export const LINGER_MAX_MS = 30_000;
/** How long a lingering connection may stay silent (nginx's lingering_timeout: 5 s). */
export const LINGER_IDLE_MS = 5_000;

/**
 * Arranges for the socket of `req` to close in stages once its answer is written: Node
 * ends a `Connection: close` answer with socket.destroySoon(), which is replaced, on
 * this socket only, by a half-close and a bounded drain of the request.
 */
function lingerAfterAnswer(req: IncomingMessage, lingering: Set<Socket>): void {
  const socket = req.socket;
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.once('close', () => lingering.delete(socket));
  socket.destroySoon = function drainThenDestroy(this: Socket) {
    this.end(); // the answer is flushed, then FIN; the read side stays open (the HTTP server allows half-open)
    let received = 0;
    const close = () => {
      clearTimeout(deadline);
      clearTimeout(idle);
      this.destroy();
    };
    const deadline = setTimeout(close, LINGER_MAX_MS);
    const idle = setTimeout(close, LINGER_IDLE_MS);
    this.once('close', close);
    // Node has set the request flowing (it discards what no one reads); count it on the way.
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > LINGER_MAX_BYTES) close();
      else idle.refresh();
    });
    // The whole request arrived: nothing is left to reset; close once the answer is out.
    const ended = () => (this.writableFinished ? close() : this.once('finish', close));
    if (req.readableEnded) ended();
    else req.once('end', ended);
  };
}

export default fp(
  async function lingeringClose(app: FastifyInstance) {
    const lingering = new Set<Socket>();
    app.addHook('onSend', (req, reply, payload, done) => {
      if (!req.raw.complete) {
        // The body is still arriving: this connection cannot carry another request.
        reply.header('connection', 'close');
        lingerAfterAnswer(req.raw, lingering);
      }
      done(null, payload);
    });
    // Lingering connections are not idle ones: close them, or shutdown waits for them.
    app.addHook('preClose', (done) => {
      for (const socket of lingering) socket.destroy();
      done();
    });
  },
  { name: 'herald-lingering-close' },
);
