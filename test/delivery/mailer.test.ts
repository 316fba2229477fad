import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { makeMailer, type Mailer } from '../../src/delivery/mailer.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const FROM = 'Herald <herald@localhost>';

describe('makeMailer', () => {
  let sink: SmtpSink;
  let mailer: Mailer;
  before(async () => {
    sink = await startSmtpSink();
    mailer = makeMailer({ smtpUrl: sink.url, from: FROM });
  });
  after(async () => {
    await mailer.close();
    await sink.close();
  });
  beforeEach(() => sink.reset());

  it('delivers a plain-text mail to a real SMTP server', async () => {
    const r = await mailer.send({ to: 'ops@example.com', subject: 'Subscription failing', text: 'Your endpoint answers 500.' });
    assert.equal(r.delivered, true);
    const [m] = await sink.waitFor(1);
    assert.equal(m!.from, 'herald@localhost');
    assert.deepEqual(m!.to, ['ops@example.com']);
    assert.equal(m!.subject, 'Subscription failing');
    assert.equal(m!.text, 'Your endpoint answers 500.');
    assert.match(m!.headers.from!, /Herald <herald@localhost>/);
  });

  it('keeps non-ASCII subjects and long bodies intact', async () => {
    const text = `Hej Åsa,\n\n${'La destination https://example.com/hook échoue. '.repeat(40)}\n— Herald`;
    await mailer.send({ to: 'åsa@example.com', subject: 'Prenumeration misslyckas: ärende ✉', text });
    const [m] = await sink.waitFor(1);
    assert.equal(m!.subject, 'Prenumeration misslyckas: ärende ✉');
    assert.equal(m!.text, text);
  });

  it('sends several mails over the pooled connection', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => mailer.send({ to: `c${i}@example.com`, subject: `m${i}`, text: 'x' })),
    );
    assert.ok(results.every((r) => r.delivered));
    const got = await sink.waitFor(5);
    assert.deepEqual(got.map((m) => m.subject).sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('logs in with the credentials in the URL', async () => {
    const withAuth = makeMailer({ smtpUrl: `smtp://user:secret@127.0.0.1:${sink.port}`, from: FROM });
    try {
      assert.equal((await withAuth.send({ to: 'a@example.com', subject: 's', text: 't' })).delivered, true);
      const [m] = await sink.waitFor(1);
      assert.equal(m!.user, 'user');
    } finally {
      await withAuth.close();
    }
  });
});

describe('makeMailer without SMTP', () => {
  it('delivers nothing and says so', async () => {
    const mailer = makeMailer({ from: FROM });
    assert.deepEqual(await mailer.send({ to: 'a@example.com', subject: 's', text: 't' }), {
      delivered: false,
      reason: 'not_configured',
    });
    await mailer.close();
  });
});

describe('makeMailer with an unreachable server', () => {
  it('reports the failure instead of throwing', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    const mailer = makeMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, timeoutMs: 1000 });
    try {
      const r = await mailer.send({ to: 'a@example.com', subject: 's', text: 't' });
      assert.equal(r.delivered, false);
      assert.ok(!r.delivered && r.reason === 'failed' && /ECONNREFUSED|connect/i.test(r.error), JSON.stringify(r));
    } finally {
      await mailer.close();
    }
  });
});
