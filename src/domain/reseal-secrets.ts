import { clearExpiredPreviousKeys, listSigningKeysNotUnder, replaceStoredSigningKey } from '../store/subscriptions.js';
import { listSigningKeys, replaceSigningKeySecret } from '../store/signing-keys.js';
import type { DomainContext } from './context.js';

export interface ResealReport {
  /** Subscription signing keys moved under the current key (or sealed for the first time). */
  subscriptionKeys: number;
  /** Token signing keys (access tokens, API keys) moved likewise. */
  tokenKeys: number;
}

const BATCH = 500;

/**
 * Moves every secret at rest under the current encryption key: values stored in clear
 * (before sealing existed) are sealed, values under a previous key are resealed. Runs at
 * start and as `herald reseal`; safe beside running processes and other reseals (each row
 * changes only if it still holds the value read), in short batches that hold no lock for
 * long. A value under a key this process does not have raises SecretUnavailableError
 * before anything of that row changes, naming the key.
 */
export async function resealSecrets(ctx: Pick<DomainContext, 'db' | 'secrets'>, now: Date = new Date()): Promise<ResealReport> {
  const { db, secrets } = ctx;
  // Rotated-out signing keys whose overlap has ended are erased, not resealed.
  await clearExpiredPreviousKeys(db, now);
  const report: ResealReport = { subscriptionKeys: 0, tokenKeys: 0 };
  for (const row of await listSigningKeys(db)) {
    if (secrets.isCurrent(row.private_jwk)) continue;
    const next = secrets.reseal(row.private_jwk, 'token-signing-key');
    if (await replaceSigningKeySecret(db, row.kid, row.private_jwk, next)) report.tokenKeys++;
  }
  // A subscription's key, and the previous one a rotation keeps for a while.
  for (const column of ['signing_key', 'previous_signing_key'] as const) {
    let afterId = 0;
    for (;;) {
      const rows = await listSigningKeysNotUnder(db, column, secrets.currentKeyId, afterId, BATCH);
      if (rows.length === 0) break;
      for (const row of rows) {
        const next = secrets.reseal(row.stored, 'subscription-signing-key');
        if (await replaceStoredSigningKey(db, column, row.id, row.stored, next)) report.subscriptionKeys++;
      }
      afterId = rows[rows.length - 1]!.id;
    }
  }
  return report;
}
