import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { claimMails, markMailFailed, markMailSent } from '../store/mails.js';
import type { Mailer } from './mailer.js';
import { MAIL_CHANNEL } from './record.js';

const MAX_MAIL_ATTEMPTS = 5;

export interface MailSender {
  /** Sends what is queued now (tests). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Sends queued mails through SMTP. Mails are rows written in the transaction that
 * decided to send them, so a crash between deciding and sending loses none; a mail is
 * tried at most 5 times, 1, 2, 4 and 8 minutes apart. Runs only when HERALD_SMTP_URL is set; otherwise mails are
 * only kept in the store (GET /admin/mails).
 */
export async function startMailSender(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  mailer: Mailer;
  pollIntervalMs: number;
}): Promise<MailSender> {
  const { db, clock, log, mailer } = deps;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  async function sendQueued(): Promise<void> {
    for (;;) {
      const mails = await claimMails(db, 20, MAX_MAIL_ATTEMPTS, clock.now());
      if (mails.length === 0) return;
      for (const m of mails) {
        const r = await mailer.send({ to: m.to_address, subject: m.subject, text: m.body });
        if (r.delivered) {
          await markMailSent(db, m.id, clock.now());
          log.info({ mail: m.id, kind: m.kind, to: m.to_address }, 'mail sent');
        } else {
          const error = r.reason === 'failed' ? r.error : 'no SMTP server configured';
          // 1, 2, 4, 8 minutes between tries.
          const retryAt = new Date(clock.now().getTime() + 60_000 * 2 ** (m.attempts - 1));
          await markMailFailed(db, m.id, error, retryAt);
          log.warn({ mail: m.id, attempt: m.attempts, error }, 'sending a mail failed');
        }
      }
    }
  }

  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await sendQueued();
        } catch (err) {
          log.error({ err }, 'mail sender failed; retrying on the next poll');
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unlisten = await db.listen(MAIL_CHANNEL, () => void run());
  const poll = setInterval(() => void run(), deps.pollIntervalMs * 5);
  poll.unref();
  void run();
  return {
    flush: async () => {
      await running;
      await run();
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      await unlisten();
      await running;
    },
  };
}
