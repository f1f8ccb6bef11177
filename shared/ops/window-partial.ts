// Input: a keyed stream (or a global one, for windowAll) in event time. Output: when this
// gateway's watermark passes a window's end, one `partial` message per key of that window,
// carrying the accumulator (mean as {sum, n}); an event whose windows all fired here already
// passes on as a `late` message, for the cloud merge to judge. State: per open window and key,
// one accumulator; nothing is kept after a window fires. Placement: edge, at every gateway;
// the planner puts it there when it splits a decomposable aggregate (issue 5).
import type { AggregateConfig, Aggregator } from '../graph/index.ts';
import { TimeHeap } from './heap.ts';
import { Operator, type OpContext } from './operator.ts';

/** What a partial sends to its merge, one per (key, window), or one per event too late here. */
export type PartialMessage =
  | { readonly type: 'partial'; readonly windowStart: number; readonly windowEnd: number; readonly acc: unknown }
  | { readonly type: 'late'; readonly value: unknown };

/**
 * The gateway half of a split window aggregate (tumbling or sliding, event time). It judges
 * no lateness itself: only the cloud merge sees every gateway's watermark, so an event late
 * here may still be on time there (another gateway holds the merged watermark back).
 *
 * @example
 * const partial = new WindowPartialOp('per-machine/partial', 0, ctx, aggregateConfig);
 */
export class WindowPartialOp extends Operator {
  private readonly open = new Map<number, Map<unknown, unknown>>();
  private readonly ends = new TimeHeap<number>();
  private readonly agg: Aggregator<unknown, unknown, unknown>;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private wm = -Infinity;

  constructor(id: string, instance: number, ctx: OpContext, cfg: AggregateConfig) {
    super(id, 'aggregate', instance, ctx);
    const w = cfg.window;
    if (w.type === 'session') throw new Error(`operator "${id}": session windows cannot be split`);
    this.agg = cfg.aggregator;
    this.size = w.sizeMs;
    this.slide = w.type === 'sliding' ? w.slideMs : w.sizeMs;
    this.offset = w.offsetMs;
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    const { size, slide } = this;
    const r = (ts - this.offset) % slide;
    const last = ts - (r < 0 ? r + slide : r);
    try {
      let anyOpen = false;
      for (let start = last; start > ts - size; start -= slide) {
        if (start + size > this.wm) { this.addOpen(start + size, key, value); anyOpen = true; }
      }
      if (!anyOpen) { this.send(ts, key, { type: 'late', value }); return; }
      // Windows of this event that fired here already get a one-event partial: the merge
      // applies it as a late update, or drops it past allowed lateness, as a whole run would.
      for (let start = last; start > ts - size; start -= slide) {
        if (start + size <= this.wm) this.partial(key, start + size, this.agg.add(this.agg.create(), value));
      }
    } catch (err) {
      this.reject(err, value);
    }
  }

  private addOpen(end: number, key: unknown, value: unknown): void {
    let m = this.open.get(end);
    if (m === undefined) {
      m = new Map();
      this.open.set(end, m);
      this.ends.push(end, end);
    }
    const acc = m.get(key);
    m.set(key, this.agg.add(acc === undefined ? this.agg.create() : acc, value));
  }

  override watermark(wm: number): void {
    if (wm <= this.wm) return;
    this.wm = wm;
    while (this.ends.size > 0 && this.ends.peekTime() <= wm) {
      const end = this.ends.pop();
      const m = this.open.get(end)!;
      this.open.delete(end);
      for (const [key, acc] of m) this.partial(key, end, acc);
    }
    // After the partials: the merge sees them before the watermark that fires their window.
    this.out.watermark(wm);
  }

  private partial(key: unknown, end: number, acc: unknown): void {
    this.send(end - 1, key, { type: 'partial', windowStart: end - this.size, windowEnd: end, acc });
  }

  private send(ts: number, key: unknown, msg: PartialMessage): void {
    this.m.out++;
    this.out.push(ts, key, msg);
  }

  /** Number of (window, key) accumulators held. */
  stateSize(): number {
    let n = 0;
    for (const m of this.open.values()) n += m.size;
    return n;
  }
}
