import type { Clock } from '../../clock.js';

/**
 * What this process knows about whether credentials still exist, so that an access
 * token is not re-checked against the database on every request.
 *
 * - "live" is trusted until `ttlMs` after it was read (HERALD_CREDENTIAL_CACHE_SECONDS):
 *   a key revoked or a connection removed by ANOTHER process stops its access tokens
 *   here within that bound. The process that revokes forgets the entry at once.
 * - "gone" is kept until evicted: revocation and removal are final.
 *
 * Time comes from the Clock, so tests move past the bound without sleeping. The map is
 * bounded (oldest entries evicted first); an evicted entry only costs one more lookup.
 */
export class CredentialCache {
  private readonly entries = new Map<string, { live: boolean; untilMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** true/false when known and fresh; undefined when it must be checked. */
  get(credentialRef: string): boolean | undefined {
    const e = this.entries.get(credentialRef);
    if (!e) return undefined;
    if (e.live && this.clock.now().getTime() >= e.untilMs) {
      this.entries.delete(credentialRef);
      return undefined;
    }
    return e.live;
  }

  set(credentialRef: string, live: boolean): void {
    if (live && this.ttlMs <= 0) return;
    this.entries.delete(credentialRef);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(credentialRef, { live, untilMs: this.clock.now().getTime() + this.ttlMs });
  }

  /** This process revoked it: stop trusting it now. */
  forget(credentialRef: string): void {
    this.entries.set(credentialRef, { live: false, untilMs: Number.POSITIVE_INFINITY });
  }
}
