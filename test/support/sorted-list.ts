/**
 * Values kept in ascending (key, id) order, for the local API stand-ins: a page is a slice, a
 * `since` bound is a binary search, so listing costs O(log n + page) whatever the store size.
 * Bulk loads append unsorted and sort once on the next read.
 */
export interface SortedEntry<T> {
  key: number;
  id: number;
  value: T;
}

export class SortedList<T> {
  private entries: SortedEntry<T>[] = [];
  private dirty = false;

  get length(): number {
    return this.entries.length;
  }

  /** Inserts in place (an append when it sorts last, the common case). */
  insert(key: number, id: number, value: T): void {
    this.settle();
    const last = this.entries[this.entries.length - 1];
    const entry = { key, id, value };
    if (!last || compare(last.key, last.id, key, id) < 0) this.entries.push(entry);
    else this.entries.splice(this.lowerBound(key, id), 0, entry);
  }

  /** Appends without ordering; the next read sorts (for seeding many values at once). */
  append(key: number, id: number, value: T): void {
    this.entries.push({ key, id, value });
    this.dirty = true;
  }

  remove(key: number, id: number): boolean {
    const at = this.lowerBound(key, id);
    const entry = this.entries[at];
    if (!entry || entry.key !== key || entry.id !== id) return false;
    this.entries.splice(at, 1);
    return true;
  }

  /** The first index whose (key, id) is >= (key, id); `id` defaults to below every id. */
  lowerBound(key: number, id = Number.NEGATIVE_INFINITY): number {
    this.settle();
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entry = this.entries[mid] as SortedEntry<T>;
      if (compare(entry.key, entry.id, key, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  at(index: number): SortedEntry<T> | undefined {
    this.settle();
    return this.entries[index];
  }

  /**
   * Up to `count` values of the index range [from, to), skipping `offset` of them, read
   * ascending or (`descending`) from `to` down.
   */
  slice(from: number, to: number, offset: number, count: number, descending: boolean): T[] {
    this.settle();
    const out: T[] = [];
    if (descending) {
      for (let i = to - 1 - offset; i >= from && out.length < count; i--)
        out.push((this.entries[i] as SortedEntry<T>).value);
    } else {
      for (let i = from + offset; i < to && out.length < count; i++)
        out.push((this.entries[i] as SortedEntry<T>).value);
    }
    return out;
  }

  /** Values of [from, to) in ascending order. */
  values(from = 0, to = this.entries.length): T[] {
    return this.slice(from, to, 0, Number.POSITIVE_INFINITY, false);
  }

  clear(): void {
    this.entries = [];
    this.dirty = false;
  }

  private settle(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.entries.sort((a, b) => compare(a.key, a.id, b.key, b.id));
  }
}

function compare(aKey: number, aId: number, bKey: number, bId: number): number {
  if (aKey !== bKey) return aKey < bKey ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}
