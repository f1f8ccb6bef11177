/**
 * Callers of a sender's `drained()`: each waits until the receiver has acked up to its seq and
 * confirmed holding its watermark.
 */
export class DrainWaiters {
  private waiting: { seq: number; watermark: number; resolve: () => void }[] = [];
  private acked = -Infinity;
  private watermark = -Infinity;

  /** Resolves once `update` reports both reached (at once if they have been). */
  until(seq: number, watermark: number): Promise<void> {
    if (this.reached(seq, watermark)) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push({ seq, watermark, resolve }));
  }

  /** The receiver's newest ack and confirmed watermark. */
  update(acked: number, watermark: number): void {
    this.acked = acked;
    this.watermark = watermark;
    if (this.waiting.length === 0) return;
    const done = this.waiting.filter((w) => this.reached(w.seq, w.watermark));
    this.waiting = this.waiting.filter((w) => !this.reached(w.seq, w.watermark));
    for (const w of done) w.resolve();
  }

  /** Lets every waiter go (the sender closed). */
  releaseAll(): void {
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  private reached(seq: number, watermark: number): boolean {
    return this.acked >= seq && this.watermark >= watermark;
  }
}
