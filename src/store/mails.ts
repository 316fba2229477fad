import type { Queryable } from './db.js';
import { storableText } from './text.js';

export interface MailRow {
  id: number;
  organization_uuid: string;
  subscription_uuid: string;
  kind: string;
  to_address: string;
  subject: string;
  body: string;
  created_at: Date;
  sent_at: Date | null;
  attempts: number;
  last_error: string | null;
}

/**
 * Claims unsent mails for sending: attempts is bumped at claim, so a mail whose sender
 * crashes is tried again, at most `maxAttempts` times. skip locked keeps two workers
 * from sending one mail at once.
 */
export async function claimMails(q: Queryable, limit: number, maxAttempts: number, now: Date): Promise<MailRow[]> {
  // The claim also pushes next_attempt_at out (a lease): a sender that dies mid-send
  // leaves the mail to be tried again later, not at once by another worker.
  const r = await q.query<MailRow>(
    `update mails set attempts = attempts + 1, next_attempt_at = $3::timestamptz + interval '5 minutes'
      where id in (select id from mails
                    where sent_at is null and attempts < $2 and next_attempt_at <= $3
                    order by next_attempt_at, id limit $1 for update skip locked)
     returning *`,
    [limit, maxAttempts, now],
  );
  return r.rows;
}

export async function markMailSent(q: Queryable, id: number, at: Date): Promise<void> {
  await q.query('update mails set sent_at = $2, last_error = null where id = $1', [id, at]);
}

/** Records a failed send; the next try comes after retryAt. */
export async function markMailFailed(q: Queryable, id: number, error: string, retryAt: Date): Promise<void> {
  await q.query('update mails set last_error = $2, next_attempt_at = $3 where id = $1', [id, storableText(error).slice(0, 1000), retryAt]);
}

/** Mails newest first, at most `limit`, older than the mail `beforeId` (paging), by the primary key. */
export async function listMails(q: Queryable, opts: { organizationUuid?: string; limit: number; beforeId?: number }): Promise<MailRow[]> {
  const r = await q.query<MailRow>(
    `select * from mails
      where ($1::uuid is null or organization_uuid = $1) and ($3::bigint is null or id < $3)
      order by id desc limit $2`,
    [opts.organizationUuid ?? null, opts.limit, opts.beforeId ?? null],
  );
  return r.rows;
}
