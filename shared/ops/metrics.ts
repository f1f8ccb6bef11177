/** Log-scale latency histogram in microseconds: bucket i holds values < 2^i µs. Fixed memory. */
export class Histogram {
  private readonly buckets = new Float64Array(32);
  private n = 0;
  private maxUs = 0;

  record(us: number): void {
    const v = us < 1 ? 1 : us;
    const i = Math.min(31, Math.ceil(Math.log2(v)));
    this.buckets[i]! += 1;
    this.n += 1;
    if (v > this.maxUs) this.maxUs = v;
  }

  /** Upper bound of the bucket holding quantile q, in milliseconds (0 when empty). */
  quantileMs(q: number): number {
    if (this.n === 0) return 0;
    let seen = 0;
    const want = q * this.n;
    for (let i = 0; i < 32; i++) {
      seen += this.buckets[i]!;
      if (seen >= want) return Math.min(2 ** i, this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  /** Adds another histogram's samples into this one (to report several instances as one). */
  absorb(other: Histogram): void {
    for (let i = 0; i < 32; i++) this.buckets[i]! += other.buckets[i]!;
    this.n += other.n;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  get count(): number { return this.n; }
  get maxMs(): number { return this.maxUs / 1000; }
}

/** Counters of one operator instance. Plain fields: incremented on the hot path. */
export class OpMetrics {
  in = 0;
  out = 0;
  /** Events beyond allowed lateness (to the late side output, or dropped when it has none). */
  late = 0;
  /** Late events within allowed lateness that updated an already fired window. */
  lateUpdates = 0;
  /** Events dropped by a declared policy (filters do not count: that is their job). */
  dropped = 0;
  deadLettered = 0;
  restarts = 0;
  /** Time from the ingestion of the source batch to this operator, sampled. */
  readonly latency = new Histogram();

  constructor(readonly id: string, readonly kind: string, readonly instance: number) {}
}

/** Sample one event in this many for latency (a power of two minus one, used as a mask). */
export const LATENCY_SAMPLE_MASK = 1023;
