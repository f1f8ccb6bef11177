/**
 * Which watermark a frame may carry: a watermark covers the events appended before it, so a
 * frame ending at seq S carries the newest watermark recorded at a seq <= S — never one that
 * would declare events still in the outbox late.
 */
export class WatermarkMarks {
  private seqs: number[] = [];
  private wms: number[] = [];
  private base = -Infinity;

  add(seq: number, wm: number): void {
    const n = this.seqs.length;
    if (n > 0 && this.wms[n - 1]! >= wm) return;
    if (wm <= this.base) return;
    if (n > 0 && this.seqs[n - 1] === seq) { this.wms[n - 1] = wm; return; }
    this.seqs.push(seq);
    this.wms.push(wm);
  }

  at(seq: number): number {
    let wm = this.base;
    for (let i = 0; i < this.seqs.length && this.seqs[i]! <= seq; i++) wm = this.wms[i]!;
    return wm;
  }

  /** Forgets marks no frame will need again (everything up to `seq` is acked). */
  dropUpTo(seq: number): void {
    let i = 0;
    while (i < this.seqs.length && this.seqs[i]! <= seq) { this.base = this.wms[i]!; i++; }
    if (i > 0) { this.seqs = this.seqs.slice(i); this.wms = this.wms.slice(i); }
  }
}
