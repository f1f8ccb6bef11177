/**
 * Caps the bytes one direction of the fault proxy forwards: time is cut into fixed slots of
 * `intervalMs` on the proxy's clock, and each slot may carry at most
 * `floor(bytesPerSecond * intervalMs / 1000)` bytes (at least 1). Every byte let through is
 * booked against its slot, so tests assert on this accounting instead of on wall-clock time.
 */
export interface BandwidthAccounting {
  /** Undefined when no cap is set. */
  readonly bytesPerSecond: number | undefined;
  readonly intervalMs: number;
  /** Bytes a slot may carry under the cap. */
  readonly budgetPerSlot: number;
  /** Bytes forwarded per slot while the cap was on, oldest first (slot = floor(now / intervalMs)). */
  readonly slots: readonly { readonly slot: number; readonly bytes: number }[];
}

const MAX_HISTORY = 10_000;

export class BandwidthShaper {
  private bytesPerSecond: number | undefined;
  private intervalMs = 100;
  private budget = Infinity;
  private slot = -1;
  private used = 0;
  private history = new Map<number, number>();

  /** Sets (or with undefined, lifts) the cap; starts a fresh accounting. */
  set(bytesPerSecond: number | undefined, intervalMs: number): void {
    this.bytesPerSecond = bytesPerSecond;
    this.intervalMs = intervalMs;
    this.budget = bytesPerSecond === undefined ? Infinity : Math.max(1, Math.floor((bytesPerSecond * intervalMs) / 1000));
    this.slot = -1;
    this.used = 0;
    this.history = new Map();
  }

  /** How many of `wanted` bytes may go now (0: wait `waitMs(now)`). Books what it grants. */
  take(wanted: number, now: number): number {
    if (this.bytesPerSecond === undefined) return wanted;
    const slot = Math.floor(now / this.intervalMs);
    if (slot !== this.slot) {
      this.slot = slot;
      this.used = 0;
    }
    const granted = Math.min(wanted, this.budget - this.used);
    if (granted <= 0) return 0;
    this.used += granted;
    this.history.set(slot, (this.history.get(slot) ?? 0) + granted);
    if (this.history.size > MAX_HISTORY) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
    }
    return granted;
  }

  /** Milliseconds until the next slot opens. */
  waitMs(now: number): number {
    return (Math.floor(now / this.intervalMs) + 1) * this.intervalMs - now;
  }

  accounting(): BandwidthAccounting {
    return {
      bytesPerSecond: this.bytesPerSecond,
      intervalMs: this.intervalMs,
      budgetPerSlot: this.budget,
      slots: [...this.history].map(([slot, bytes]) => ({ slot, bytes })),
    };
  }
}
