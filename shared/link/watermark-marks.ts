/**
 * Which watermark a frame may carry: a watermark covers the events appended before it, so a
 * frame ending at seq S carries the newest watermark recorded at a seq <= S — never one that
 * would declare events still in the outbox late.
 *
 * Marks are kept until acked, so an outage would grow them by one per batch for as long as it
 * lasts. Past `MAX_MARKS` every other one is dropped (the newest always stays): a frame then
 * carries an older watermark than it could, which is safe — it declares nothing late — and only
 * slows the watermark while a backlog drains.
 */
export class WatermarkMarks {
  private seqs: number[] = [];
  private wms: number[] = [];
  private base = -Infinity;

  constructor(private readonly maxMarks = MAX_MARKS) {}

  add(seq: number, wm: number): void {
    const n = this.seqs.length;
    if (n > 0 && this.wms[n - 1]! >= wm) return;
    if (wm <= this.base) return;
    if (n > 0 && this.seqs[n - 1] === seq) { this.wms[n - 1] = wm; return; }
    this.seqs.push(seq);
    this.wms.push(wm);
    if (this.seqs.length > this.maxMarks) this.thin();
  }

  /** The newest watermark recorded at a seq <= `seq` (binary search: marks are in seq order). */
  at(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.base : this.wms[lo - 1]!;
  }

  /** Marks held (bounded by `maxMarks`). */
  get size(): number { return this.seqs.length; }

  /** Forgets marks no frame will need again (everything up to `seq` is acked). */
  dropUpTo(seq: number): void {
    let i = 0;
    while (i < this.seqs.length && this.seqs[i]! <= seq) { this.base = this.wms[i]!; i++; }
    if (i > 0) { this.seqs = this.seqs.slice(i); this.wms = this.wms.slice(i); }
  }

  /** Keeps every other mark, counting back from the newest, which stays. */
  private thin(): void {
    const seqs: number[] = [];
    const wms: number[] = [];
    for (let i = this.seqs.length - 1; i >= 0; i -= 2) { seqs.push(this.seqs[i]!); wms.push(this.wms[i]!); }
    this.seqs = seqs.reverse();
    this.wms = wms.reverse();
  }
}

/** Marks an outbox keeps at most (two numbers each). */
export const MAX_MARKS = 4096;
