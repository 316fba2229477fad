// The benchmark's webhook receiver, in its own process so that it does not share
// Herald's CPU: answers 200 at once on 16 loopback addresses (16 origins), and reports
// (webhook-id, time received) to its parent in batches.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
export const ORIGINS = 16;
let batch: [string, number][] = [];

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') batch.push([id, performance.timeOrigin + performance.now()]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;

const flush = () => {
  if (batch.length > 0) {
    process.send!({ received: batch });
    batch = [];
  }
};
setInterval(flush, 20).unref();

let listening = 0;
for (let i = 1; i <= ORIGINS; i++) {
  const s = i === 1 ? server : createServer(server.listeners('request')[0] as Parameters<typeof createServer>[0]);
  s.keepAliveTimeout = 60_000;
  s.listen(port, `127.0.0.${i}`, () => {
    if (++listening === ORIGINS) process.send!({ ready: true });
  });
}
process.on('disconnect', () => process.exit(0));
