import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Closes, when Herald shuts down, the connections that have not sent a request yet.
 *
 * HTTP clients open connections ahead of need (undici does, for a request it queues
 * while another holds its connection) and may leave one unused. Node counts such a
 * connection as waiting for its first request's headers, not as idle, so closing the
 * server waited for it until headersTimeout (60 s), past the shutdown bound. Nothing is
 * in flight on it: it is closed at once, like an idle keep-alive connection.
 */
export default fp(
  async function closeUnusedConnections(app: FastifyInstance) {
    const unused = new Set<Socket>();
    app.server.on('connection', (socket: Socket) => {
      unused.add(socket);
      socket.once('close', () => unused.delete(socket));
    });
    app.server.on('request', (req: { socket: Socket }) => unused.delete(req.socket));
    app.addHook('preClose', async () => {
      for (const socket of unused) socket.destroy();
      unused.clear();
    });
  },
  { name: 'herald-close-unused-connections' },
);
