import type { Clock } from '../clock.ts';

/**
 * A rate cap: `rate` tokens a second, holding at most `burst`. `take(max)` returns how many
 * may go now; `msUntilOne()` how long until one more may.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly rate: number, private readonly burst: number, private readonly clock: Clock) {
    this.tokens = Math.min(burst, rate);
    this.at = clock.now();
  }

  /** Whole tokens available now, at most `max` (all of `max` when the rate is unlimited). */
  available(max: number): number {
    if (this.rate === Infinity) return max;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    return Math.min(max, Math.floor(this.tokens));
  }

  spend(n: number): void {
    if (this.rate !== Infinity) this.tokens -= n;
  }

  msUntilOne(): number {
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
