/** A binary min-heap of items ordered by a numeric time; ties keep no particular order. */
export class TimeHeap<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number { return this.times.length; }
  peekTime(): number { return this.times.length > 0 ? this.times[0]! : Infinity; }

  push(time: number, item: T): void {
    const t = this.times, it = this.items;
    let i = t.length;
    t.push(time); it.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!; it[i] = it[p]!;
      i = p;
    }
    t[i] = time; it[i] = item;
  }

  /** Removes and returns the earliest item; call only when size > 0. */
  pop(): T {
    const t = this.times, it = this.items;
    const top = it[0]!;
    const lastT = t.pop()!, lastI = it.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lastT) break;
        t[i] = t[c]!; it[i] = it[c]!;
        i = c;
      }
      t[i] = lastT; it[i] = lastI;
    }
    return top;
  }
}
