/**
 * Collects a stage's results and hands them to `flush` in batches: when `size` are
 * waiting, or `delayMs` after the first one. Flushes run one after another, never side
 * by side, so a batch is recorded before the next one starts.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      size: number;
      delayMs: number;
      /** Records a batch; must not throw (it logs what it cannot record). */
      flush: (batch: T[]) => Promise<void>;
      /** After each batch is recorded, with it. */
      flushed: (batch: T[]) => void;
    },
  ) {}

  /** Items waiting for a flush. */
  get waiting(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.opts.size) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.delayMs);
  }

  /** Flushes what is waiting now; resolves when every batch so far is recorded. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return this.chain;
    const batch = this.items;
    this.items = [];
    this.chain = this.chain.then(() => this.opts.flush(batch)).finally(() => this.opts.flushed(batch));
    return this.chain;
  }

  /** Resolves when every batch handed over so far is recorded. */
  settled(): Promise<void> {
    return this.chain;
  }
}
