// The developer CLI as a developer runs it (issue 10): `herald listen`, `trigger`, `tail`,
// `resend`, `subscriptions` and `rotate-key` processes against a running Herald (API and
// worker) whose destination safety is ON: listen still reaches a server on 127.0.0.1,
// because the deliveries travel over the CLI's own connection. Needs the build (npm run build).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyDelivery } from '../../packages/webhooks/src/index.js';
import { captureLog } from '../helpers/log.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, type TestCredential } from '../helpers/identity.js';
import { runHerald, type HeraldProcess } from '../helpers/process.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { eventually } from '../helpers/wait.js';

type Line = Record<string, unknown>;

/** The JSON lines a process printed so far. */
const jsonLines = (p: HeraldProcess): Line[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

/** Waits until the process printed a JSON line that `match` accepts (fails if it exits first). */
async function lineFrom(p: HeraldProcess, match: (l: Line) => boolean, what: string): Promise<Line> {
  const deadline = Date.now() + 120_000; // a safety net for a stuck test, not a budget
  for (;;) {
    const found = jsonLines(p).find(match);
    if (found) return found;
    if (p.child.exitCode !== null) assert.fail(`exited (${p.child.exitCode}) before ${what}:\n${p.output()}`);
    if (Date.now() > deadline) assert.fail(`never printed ${what}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = runHerald(args, env);
  return { code: await p.exited, out: p.output() };
}

async function interrupt(p: HeraldProcess): Promise<number | null> {
  p.child.kill('SIGINT');
  return p.exited;
}

describe('developer CLI: listen, trigger, tail, resend', () => {
  let h: TestHerald;
  let receiver: TestReceiver;
  let cred: TestCredential;
  let env: Record<string, string>;
  const logged = captureLog();
  const running: HeraldProcess[] = [];

  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!, {
      roles: { api: true, worker: true },
      log: logged.log,
      // Destination safety on, as in production: no subscription may point at 127.0.0.1.
      config: { allowInsecureDestinations: false, retrySchedule: [3600], attemptLogLevel: 'info' },
    });
    receiver = await startReceiver();
    cred = await createCredential(h, ['READ:PRODUCT', 'READ:PURCHASE']);
    env = { HERALD_URL: h.url, HERALD_API_KEY: cred.apiKey, HERALD_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  });

  after(async () => {
    for (const p of running) if (p.child.exitCode === null) await interrupt(p);
    await receiver?.close();
    await h?.stop();
  });

  it('listen forwards a triggered event, signed, to a local server; the answer is in the attempt log; tail shows it', async () => {
    const tail = runHerald(['tail', '--json', '--interval', '100'], env);
    running.push(tail);
    const listen = runHerald(['listen', '--forward-to', `${receiver.url}?from=cli`, '--events', 'ProductCreated,PurchaseCreated', '--json'], env);
    running.push(listen);
    const ready = await lineFrom(listen, (l) => l.type === 'ready', 'ready');
    const listenerId = ready.listenerId as string;
    assert.deepEqual(ready.eventNames, ['ProductCreated', 'PurchaseCreated']);

    // A subscription to the same local server is refused: no safety rule was relaxed.
    const refused = await asCredential(h, cred)('POST', '/organizations/self/subscriptions', {
      uuid: 'a0a1a2a3-8f35-11eb-8dcd-0242ac130003',
      transportName: 'WEBHOOK',
      eventNames: ['ProductCreated'],
      destination: receiver.url,
      contactEmail: 'dev@example.com',
    });
    assert.equal(refused.status, 422, await refused.text());

    const trigger = await run(['trigger', 'ProductCreated', '--json'], env);
    assert.equal(trigger.code, 0, trigger.out);
    const published = JSON.parse(trigger.out) as { messageId: string; deliveries: number; organizationUuid: string };
    assert.equal(published.organizationUuid, cred.organizationUuid);
    assert.equal(published.deliveries, 1);

    const [req] = await receiver.waitFor(1);
    assert.equal(req!.path, '/hook?from=cli');
    const verified = await verifyDelivery(req!.body, req!.headers, { keys: ready.signingKey as string });
    assert.ok(verified.envelope === 'pusher' && verified.eventName === 'ProductCreated');
    assert.equal(verified.messageId, published.messageId);

    const forwarded = await lineFrom(listen, (l) => l.type === 'forwarded', 'a forwarded line');
    assert.equal(forwarded.eventName, 'ProductCreated');
    assert.equal(forwarded.messageId, published.messageId);
    assert.equal((forwarded.answer as { status: number }).status, 200);
    assert.equal(forwarded.recorded, true);

    // The attempt log has it, like any delivery: the messages API, and the worker's log line.
    const call = asCredential(h, cred);
    const message = await eventually(async () => {
      const r = (await (await call('GET', `/organizations/self/subscriptions/${listenerId}/messages`)).json()) as {
        messages: { messageId: string; state: string; lastStatusCode: number }[];
      };
      return r.messages.find((m) => m.messageId === published.messageId && m.state === 'delivered');
    }, 'the message delivered');
    assert.equal(message.lastStatusCode, 200);
    const attempts = (await (await call('GET', `/organizations/self/subscriptions/${listenerId}/messages/${published.messageId}/attempts`)).json()) as {
      attempts: { outcome: string; statusCode: number; responseExcerpt: string }[];
    };
    assert.deepEqual(attempts.attempts.map((a) => [a.outcome, a.statusCode, a.responseExcerpt]), [['success', 200, 'ok']]);
    const line = logged.lines.find((l) => l.msg === 'delivery attempt' && l.subscription === listenerId);
    assert.ok(line, 'the worker logged the attempt');
    assert.equal(line.status, 200);
    assert.equal(line.outcome, 'delivered');

    const tailed = await lineFrom(tail, (l) => l.messageId === published.messageId, 'tail shows the attempt');
    assert.equal(tailed.subscriptionUuid, listenerId);
    assert.equal(tailed.eventName, 'ProductCreated');
    assert.equal(tailed.outcome, 'success');
    assert.equal(tailed.statusCode, 200);

    // A failing answer is reported and retried on the schedule; resend sends it again now.
    receiver.reset();
    receiver.respondWith(() => ({ status: 500, body: 'local bug' }));
    const second = JSON.parse((await run(['trigger', 'PurchaseCreated', '--json'], env)).out) as { messageId: string };
    const failed = await lineFrom(listen, (l) => l.type === 'forwarded' && l.messageId === second.messageId, 'the failure forwarded');
    assert.equal((failed.answer as { status: number }).status, 500);
    const failure = await lineFrom(tail, (l) => l.messageId === second.messageId, 'tail shows the failure');
    assert.equal(failure.outcome, 'failure');
    assert.equal(failure.statusCode, 500);
    assert.equal(failure.errorClass, 'http_status');

    receiver.respondWith(200);
    const resend = await run(['resend', '--subscription', listenerId, '--message', second.messageId, '--json'], env);
    assert.equal(resend.code, 0, resend.out);
    assert.deepEqual(JSON.parse(resend.out), { resent: 1 });
    await lineFrom(listen, (l) => l.type === 'forwarded' && l.messageId === second.messageId && (l.answer as { status: number }).status === 200, 'the resend forwarded');
    await lineFrom(tail, (l) => l.messageId === second.messageId && l.outcome === 'success', 'tail shows the resend');

    // Ctrl-C ends the listener and its subscription: the next event reaches nobody.
    assert.equal(await interrupt(listen), 0, listen.output());
    assert.ok(jsonLines(listen).some((l) => l.type === 'stopped'));
    assert.equal((await call('GET', `/organizations/self/subscriptions/${listenerId}/messages`)).status, 404);
    const after = JSON.parse((await run(['trigger', 'ProductCreated', '--json'], env)).out) as { deliveries: number };
    assert.equal(after.deliveries, 0);
    assert.equal(await interrupt(tail), 0, tail.output());
  });

  it('refuses bad usage before doing anything (exit 2), and prints each command\'s help', async () => {
    for (const args of [
      ['listen'],
      ['listen', '--forward-to', 'ftp://x'],
      ['listen', '--forward-to', 'http://localhost:1', '--bogus'],
      ['trigger'],
      ['trigger', 'NoSuchEvent', '--org', cred.organizationUuid],
      ['tail', '--interval', 'soon'],
      ['resend', '--subscription', 'x'],
      ['subscriptions', 'explode'],
      ['listen', '--forward-to', 'http://localhost:1', '--events', ','],
      ['resend', '--subscription', 'a0a1a2a3-8f35-11eb-8dcd-0242ac130003', '--message', '..'],
      ['rotate-key', '--subscription', 'a0a1a2a3-8f35-11eb-8dcd-0242ac130003', '--overlap='],
      ['tail', '--subscription', 'nope'],
      ['tail', '--event', 'NoSuchEvent'],
      ['tail', '--url', 'localhost:8080'],
    ]) {
      const r = await run(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    }
    const noKey = await run(['tail'], { HERALD_URL: h.url });
    assert.equal(noKey.code, 2, noKey.out);
    assert.match(noKey.out, /no API key/);
    for (const cmd of ['listen', 'trigger', 'tail', 'resend', 'subscriptions', 'rotate-key']) {
      const r = await run([cmd, '--help'], {});
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^Usage:/, cmd);
    }
  });

  it('subscriptions create, list, rotate-key and delete through the Pusher API', async () => {
    // Production rules: a public destination only. Herald (safety on) refuses 127.0.0.1,
    // and the CLI reports the spec's error with exit 1.
    const local = await run(['subscriptions', 'create', '--destination', receiver.url, '--contact', 'dev@example.com', '--events', 'ProductCreated'], env);
    assert.equal(local.code, 1, local.out);
    assert.match(local.out, /422 VALIDATION_ERROR/);

    const other = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    try {
      const c = await createCredential(other, ['READ:PRODUCT']);
      const e = { HERALD_URL: other.url, HERALD_API_KEY: c.apiKey };
      receiver.respondWith(200);
      const created = await run(['subscriptions', 'create', '--destination', receiver.url, '--contact', 'dev@example.com', '--events', 'ProductCreated', '--json'], e);
      assert.equal(created.code, 0, created.out);
      const sub = JSON.parse(created.out) as { uuid: string; signingKey: string; eventNames: string[] };
      assert.deepEqual(sub.eventNames, ['ProductCreated']);
      const list = JSON.parse((await run(['subscriptions', 'list', '--json'], e)).out) as { uuid: string }[];
      assert.deepEqual(list.map((s) => s.uuid), [sub.uuid]);
      const rotated = await run(['rotate-key', '--subscription', sub.uuid, '--overlap', '60', '--json'], e);
      assert.equal(rotated.code, 0, rotated.out);
      const key = JSON.parse(rotated.out) as { signingKey: string };
      assert.notEqual(key.signingKey, sub.signingKey);
      const deleted = await run(['subscriptions', 'delete', '--subscription', sub.uuid], e);
      assert.equal(deleted.code, 0, deleted.out);
      assert.deepEqual(JSON.parse((await run(['subscriptions', 'list', '--json'], e)).out), []);
    } finally {
      await other.stop();
    }
  });
});
