/**
 * Mail to a subscription's contactEmail (FAILING warnings, exhausted schedules).
 * Without HERALD_SMTP_URL nothing is sent: the caller keeps every mail in the store
 * either way, so an unset or failing SMTP server loses no information.
 */
import { createTransport } from 'nodemailer';

/** One plain-text mail. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** What became of a mail: sent, not configured, or refused by the SMTP server. */
export type MailResult =
  | { delivered: true; messageId: string }
  | { delivered: false; reason: 'not_configured' }
  | { delivered: false; reason: 'failed'; error: string };

/** Sends mails over SMTP, or reports that none is configured. */
export interface Mailer {
  send(mail: Mail): Promise<MailResult>;
  close(): Promise<void>;
}

/** Makes a Mailer over `smtpUrl` (smtp:// with STARTTLS when offered, or smtps://). */
export function makeMailer(opts: { smtpUrl?: string; from: string; timeoutMs?: number }): Mailer {
  if (!opts.smtpUrl) {
    return { send: async () => ({ delivered: false, reason: 'not_configured' }), close: async () => {} };
  }
  const timeout = opts.timeoutMs ?? 10_000;
  // A pooled transport reuses one SMTP session for a burst of warnings.
  const transport = createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: 2,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(mail) {
      try {
        const info = await transport.sendMail({ from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
        return { delivered: true, messageId: info.messageId };
      } catch (err) {
        return { delivered: false, reason: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
    },
    async close() {
      transport.close();
    },
  };
}
