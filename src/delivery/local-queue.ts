/**
 * Stage 1b, the local queue: deliveries this worker has claimed (leased) ahead of its
 * free slots, so that a slot that frees starts the next delivery at once instead of
 * waiting for a claim's round trip, and claims are fewer and larger (issue 12).
 *
 * A queued delivery is leased like one in flight: the claim counted it against its
 * destination's limit, no other worker can take it, and if this worker dies it is
 * released like the rest. What the queue decides when a slot frees, per delivery in
 * claim order (`Verdict`): start it; leave it queued (its destination is at its limit in
 * this worker: after a shrink, the claim's count may be above the new limit); or hand it
 * back (its destination is paused by a Retry-After, or too little of its lease is left
 * for an attempt to finish inside it).
 */
export type Verdict = 'start' | 'wait' | 'return';

/** What a queued delivery's verdict depends on, at the moment a slot frees. */
export interface SlotFacts {
  now: number;
  /** An attempt's longest run (HERALD_DELIVERY_TIMEOUT_MS) plus a margin. */
  attemptMs: number;
  paused: boolean;
  /** This worker's deliveries in flight to the origin, and the origin's limit. */
  inflight: number;
  limit: number;
}

/** The rule: hand back what cannot be sent inside its lease or while paused; start what the limit allows. */
export function verdict(leaseUntil: number, f: SlotFacts): Verdict {
  if (leaseUntil - f.now < f.attemptMs) return 'return';
  if (f.paused) return 'return';
  return f.inflight < f.limit ? 'start' : 'wait';
}

export interface Queued<T> {
  delivery: T;
  /** When its lease ends (ms since the epoch, the worker's clock). */
  leaseUntil: number;
}

export class LocalQueue<T extends { destination_origin: string }> {
  private items: Queued<T>[] = [];
  private readonly perOrigin = new Map<string, number>();

  get length(): number {
    return this.items.length;
  }

  /** The origins with queued deliveries, and how many each. */
  origins(): IterableIterator<[string, number]> {
    return this.perOrigin.entries();
  }

  push(deliveries: T[], leaseUntil: number): void {
    for (const delivery of deliveries) {
      this.items.push({ delivery, leaseUntil });
      this.count(delivery.destination_origin, 1);
    }
  }

  /**
   * The first queued delivery `verdict` starts (removed), and every one before it that
   * it hands back (removed too); those it leaves waiting stay, in order.
   */
  take(verdict: (q: Queued<T>) => Verdict): { start?: T; returned: T[] } {
    const returned: T[] = [];
    for (let i = 0; i < this.items.length; ) {
      const q = this.items[i]!;
      const v = verdict(q);
      if (v === 'wait') {
        i++;
        continue;
      }
      this.items.splice(i, 1);
      this.count(q.delivery.destination_origin, -1);
      if (v === 'start') return { start: q.delivery, returned };
      returned.push(q.delivery);
    }
    return { returned };
  }

  /** Empties the queue (the worker stops): what was in it, to hand back. */
  clear(): T[] {
    const all = this.items.map((q) => q.delivery);
    this.items = [];
    this.perOrigin.clear();
    return all;
  }

  private count(origin: string, by: number): void {
    const n = (this.perOrigin.get(origin) ?? 0) + by;
    if (n === 0) this.perOrigin.delete(origin);
    else this.perOrigin.set(origin, n);
  }
}
