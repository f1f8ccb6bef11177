/** Promises waiting for a seq to become durable, released in seq order. */
interface Waiter {
  readonly seq: number;
  readonly resolve: (seq: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Resolves `wait(seq)` promises in seq order as `release(upto)` moves the durable mark. */
export class SeqWaiters {
  private readonly list: Waiter[] = [];
  private start = 0;

  get size(): number {
    return this.list.length - this.start;
  }

  /** A promise resolving with `seq` once `release(n)` is called with n >= seq. */
  wait(seq: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const w = { seq, resolve, reject };
      const last = this.list[this.list.length - 1];
      if (this.size === 0 || !last || last.seq <= seq) {
        this.list.push(w);
        return;
      }
      // Rare: whenDurable() for an older seq; keep the list sorted.
      let i = this.list.length;
      while (i > this.start && (this.list[i - 1] as Waiter).seq > seq) i--;
      this.list.splice(i, 0, w);
    });
  }

  release(upto: number): void {
    while (this.start < this.list.length) {
      const w = this.list[this.start] as Waiter;
      if (w.seq > upto) break;
      this.start++;
      w.resolve(w.seq);
    }
    if (this.start > 1024 && this.start * 2 > this.list.length) {
      this.list.splice(0, this.start);
      this.start = 0;
    }
  }

  rejectAll(err: unknown): void {
    const rest = this.list.splice(this.start);
    this.list.length = 0;
    this.start = 0;
    for (const w of rest) w.reject(err);
  }
}
