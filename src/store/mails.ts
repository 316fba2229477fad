import type { Queryable } from './db.js';

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
export async function claimMails(q: Queryable, limit: number, maxAttempts: number): Promise<MailRow[]> {
  const r = await q.query<MailRow>(
    `update mails set attempts = attempts + 1
      where id in (select id from mails where sent_at is null and attempts < $2 order by id limit $1 for update skip locked)
     returning *`,
    [limit, maxAttempts],
  );
  return r.rows;
}

export async function markMailSent(q: Queryable, id: number, at: Date): Promise<void> {
  await q.query('update mails set sent_at = $2, last_error = null where id = $1', [id, at]);
}

export async function markMailFailed(q: Queryable, id: number, error: string): Promise<void> {
  await q.query('update mails set last_error = $2 where id = $1', [id, error.slice(0, 1000)]);
}

export async function listMails(q: Queryable, opts: { organizationUuid?: string; limit: number }): Promise<MailRow[]> {
  const r = await q.query<MailRow>(
    `select * from mails where ($1::uuid is null or organization_uuid = $1) order by id desc limit $2`,
    [opts.organizationUuid ?? null, opts.limit],
  );
  return r.rows;
}
