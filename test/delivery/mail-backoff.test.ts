// The mail retry backoff (issue 13 item 9): a mail whose SMTP server refuses it is tried
// at most 5 times, 1, 2, 4 and 8 minutes apart, on the injectable clock, against a real
// SMTP connection that is refused (a closed local port), on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { makeMailer } from '../../src/delivery/mailer.js';
import { startMailSender, type MailSender } from '../../src/delivery/mail-sender.js';
import { makeLogger } from '../../src/logger.js';
import { testDatabases, type TestDb } from '../helpers/db.js';
import { freePort } from '../helpers/process.js';

const T0 = Date.UTC(2026, 0, 1);

for (const backend of testDatabases()) {
  describe(`mail retry backoff: ${backend.name}`, () => {
    let t: TestDb;
    let sender: MailSender;
    const clock = new ManualClock(T0);
    const mailer = { close: async () => {} } as { close(): Promise<void> };
    before(async () => {
      t = await backend.open();
      // Nothing listens on this port: every send is refused.
      const smtp = makeMailer({ smtpUrl: `smtp://127.0.0.1:${await freePort()}`, from: 'Herald <h@localhost>', timeoutMs: 2000 });
      mailer.close = () => smtp.close();
      sender = await startMailSender({ db: t.db, clock, log: makeLogger({ logLevel: 'silent', logFormat: 'json' }), mailer: smtp, pollIntervalMs: 3_600_000 });
      await t.db.query(
        `insert into mails (organization_uuid, subscription_uuid, kind, to_address, subject, body, created_at, next_attempt_at)
         values ('0f60dbc0-fab5-11e7-b884-62da5a369555', 'f02f80f8-8f35-11eb-8dcd-0242ac130003', 'failing', 'ops@example.com', 's', 'b', $1, $1)`,
        [new Date(T0)],
      );
    });
    after(async () => {
      await sender.stop();
      await mailer.close();
      await t.dispose();
    });

    const mail = async () =>
      (await t.db.query<{ attempts: number; next_attempt_at: Date; sent_at: Date | null; last_error: string | null }>('select * from mails')).rows[0]!;

    it('tries 5 times, 1, 2, 4 and 8 minutes apart, then no more', async () => {
      const minutes = (m: number) => m * 60_000;
      let elapsed = 0;
      for (const [attempt, wait] of [[1, 1], [2, 2], [3, 4], [4, 8]] as const) {
        await sender.flush();
        let m = await mail();
        assert.equal(m.attempts, attempt);
        assert.equal(m.sent_at, null);
        assert.ok(m.last_error, 'the refusal is recorded');
        assert.equal(m.next_attempt_at.getTime(), T0 + elapsed + minutes(wait), `attempt ${attempt} waits ${wait} min`);
        // A second before it is due: nothing.
        clock.set(T0 + elapsed + minutes(wait) - 1000);
        await sender.flush();
        m = await mail();
        assert.equal(m.attempts, attempt, `not before ${wait} min`);
        elapsed += minutes(wait);
        clock.set(T0 + elapsed);
      }
      await sender.flush();
      assert.equal((await mail()).attempts, 5);
      // The fifth was the last: hours later, still five.
      clock.set(T0 + elapsed + minutes(600));
      await sender.flush();
      assert.equal((await mail()).attempts, 5);
    });
  });
}
