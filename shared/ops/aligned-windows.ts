import { TimeHeap } from './heap.ts';
import type { WindowEmitter, WindowLogic } from './window-logic.ts';

interface Fired<A> { acc: A; rev: number }

/**
 * State of tumbling and sliding windows: per window end, per key, one accumulator. A window
 * [start, end) fires once the watermark reaches `end`; it is kept `lateness` longer for late
 * updates, then dropped. Memory is bounded by (open windows) x (keys), not by input size.
 */
export class AlignedWindows<A> {
  private readonly open = new Map<number, Map<unknown, A>>();
  private readonly ends = new TimeHeap<number>();
  private readonly fired = new Map<number, Map<unknown, Fired<A>>>();
  private readonly purges = new TimeHeap<number>();
  private lastEnd = NaN;
  private lastMap: Map<unknown, A> | undefined;
  private wm = -Infinity;

  constructor(
    private readonly size: number,
    private readonly slide: number,
    private readonly offset: number,
    private readonly lateness: number,
    private readonly logic: WindowLogic<A>,
    private readonly out: WindowEmitter<A>,
  ) {}

  /** Adds an event to every window holding `ts`. Returns 0 if it was too late for all of them, else 1, or 2 if it only updated fired windows. */
  add(ts: number, key: unknown, value: unknown, side: 0 | 1): number {
    const { size, slide } = this;
    const r = (ts - this.offset) % slide;
    let start = ts - (r < 0 ? r + slide : r);
    let result = 0;
    for (; start > ts - size; start -= slide) {
      const got = this.addTo(start + size, key, value, side);
      if (got === 1) result = 1;
      else if (got === 2 && result === 0) result = 2;
    }
    return result;
  }

  /** Adds to the one window ending at `end` (a merge adding a partial of that window); returns as `add` does. */
  addTo(end: number, key: unknown, value: unknown, side: 0 | 1): number {
    if (end > this.wm) {
      let m = this.lastMap;
      if (end !== this.lastEnd || m === undefined) {
        m = this.open.get(end);
        if (m === undefined) {
          m = new Map();
          this.open.set(end, m);
          this.ends.push(end, end);
        }
        this.lastEnd = end;
        this.lastMap = m;
      }
      const acc = m.get(key);
      m.set(key, this.logic.add(acc === undefined ? this.logic.create() : acc, value, side));
      return 1;
    }
    if (end + this.lateness > this.wm) {
      let fm = this.fired.get(end);
      if (fm === undefined) {
        fm = new Map();
        this.fired.set(end, fm);
        this.purges.push(end + this.lateness, end);
      }
      let f = fm.get(key);
      if (f === undefined) {
        f = { acc: this.logic.create(), rev: 0 };
        fm.set(key, f);
      }
      f.acc = this.logic.add(f.acc, value, side);
      if (f.rev === 0) this.out.emit(key, end - this.size, end, f.acc, 0);
      else this.out.update(key, end - this.size, end, f.acc, value, side, f.rev);
      f.rev++;
      return 2;
    }
    return 0;
  }

  /** Earliest time at which something will fire; Infinity when nothing is open. */
  nextFire(): number { return this.ends.peekTime(); }

  advance(wm: number): void {
    if (wm <= this.wm) return;
    this.wm = wm;
    // Most watermarks fire nothing: keep that path to two comparisons.
    if (this.ends.peekTime() > wm && this.purges.peekTime() > wm) return;
    this.lastEnd = NaN;
    this.lastMap = undefined;
    while (this.ends.size > 0 && this.ends.peekTime() <= wm) {
      const end = this.ends.pop();
      const m = this.open.get(end)!;
      this.open.delete(end);
      for (const [key, acc] of m) this.out.emit(key, end - this.size, end, acc, 0);
      if (this.lateness > 0 && end + this.lateness > wm) {
        const fm = new Map<unknown, Fired<A>>();
        for (const [key, acc] of m) fm.set(key, { acc, rev: 1 });
        this.fired.set(end, fm);
        this.purges.push(end + this.lateness, end);
      }
    }
    while (this.purges.size > 0 && this.purges.peekTime() <= wm) this.fired.delete(this.purges.pop());
  }

  /** Number of (window, key) accumulators held, open and retained. */
  stateSize(): number {
    let n = 0;
    for (const m of this.open.values()) n += m.size;
    for (const m of this.fired.values()) n += m.size;
    return n;
  }
}
