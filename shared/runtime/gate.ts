/**
 * Back-pressure from async operators and sinks to sources: any holder closes the gate, and
 * sources wait for it to open before reading their next batch.
 */
export class Gate {
  private readonly holders = new Set<string>();
  private waiters: (() => void)[] = [];
  /** How often a source had to wait: a visible sign of back-pressure. */
  waits = 0;

  hold(who: string): void { this.holders.add(who); }

  release(who: string): void {
    this.holders.delete(who);
    if (this.holders.size === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  get open(): boolean { return this.holders.size === 0; }

  whenOpen(): Promise<void> | undefined {
    if (this.holders.size === 0) return undefined;
    this.waits++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Lets every waiter go (used when a run stops). */
  releaseAll(): void {
    this.holders.clear();
    this.release('');
  }
}
