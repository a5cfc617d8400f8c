/**
 * Collects items and writes them together: one write per tick (or sooner when `maxItems` wait),
 * one write at a time, in order. `add` resolves once its item is written; a failed write rejects
 * the adds it carried.
 */
export class Batcher<T> {
  private pending: { item: T; done: (error?: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly write: (items: T[]) => Promise<void>;
  private readonly delayMs: number;
  private readonly maxItems: number;

  constructor(write: (items: T[]) => Promise<void>, { delayMs, maxItems }: { delayMs: number; maxItems: number }) {
    this.write = write;
    this.delayMs = delayMs;
    this.maxItems = maxItems;
  }

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (this.pending.length >= this.maxItems) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Writes what is waiting now (after any write under way). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.write(batch.map((entry) => entry.item));
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch) entry.done(error ?? new Error('batch write failed'));
      }
    });
    return this.writing;
  }
}
