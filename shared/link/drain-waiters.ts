/**
 * Callers of a sender's `drained()`: each waits until the receiver has acked up to its seq and
 * confirmed holding its watermark, as `reached` tells from the sender's own state.
 */
export class DrainWaiters {
  private waiting: { seq: number; watermark: number; resolve: () => void }[] = [];

  constructor(private readonly reached: (seq: number, watermark: number) => boolean) {}

  /** Resolves once both are reached (at once if they have been). */
  until(seq: number, watermark: number): Promise<void> {
    if (this.reached(seq, watermark)) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push({ seq, watermark, resolve }));
  }

  /** The receiver's ack or confirmed watermark moved: lets go whoever it satisfies. */
  wake(): void {
    if (this.waiting.length === 0) return;
    const still: typeof this.waiting = [];
    const done: typeof this.waiting = [];
    for (const w of this.waiting) (this.reached(w.seq, w.watermark) ? done : still).push(w);
    this.waiting = still;
    for (const w of done) w.resolve();
  }

  /** Lets every waiter go (the sender closed). */
  releaseAll(): void {
    for (const w of this.waiting.splice(0)) w.resolve();
  }
}
