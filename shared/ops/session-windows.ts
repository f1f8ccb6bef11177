import { TimeHeap } from './heap.ts';
import type { WindowEmitter, WindowLogic } from './window-logic.ts';

interface Session<A> {
  start: number;
  end: number;
  acc: A;
  /** Times this session has been emitted; the next emission carries this revision. */
  rev: number;
  /** Changed since it was last emitted. */
  dirty: boolean;
}

/**
 * Per-key session windows: an event opens [ts, ts + gap); sessions that touch merge. A session
 * fires when the watermark passes its end and is kept `lateness` longer for late updates.
 */
export class SessionWindows<A> {
  private readonly sessions = new Map<unknown, Session<A>[]>();
  private readonly timers = new TimeHeap<unknown>();
  private wm = -Infinity;

  constructor(
    private readonly gap: number,
    private readonly lateness: number,
    private readonly logic: WindowLogic<A>,
    private readonly out: WindowEmitter<A>,
  ) {}

  add(ts: number, key: unknown, value: unknown, side: 0 | 1): number {
    const fresh: Session<A> = { start: ts, end: ts + this.gap, acc: this.logic.add(this.logic.create(), value, side), rev: 0, dirty: true };
    if (fresh.end + this.lateness <= this.wm) return 0;
    const list = this.sessions.get(key);
    const keep: Session<A>[] = [];
    if (list) {
      for (const s of list) {
        if (s.start <= fresh.end && s.end >= fresh.start) {
          fresh.start = Math.min(fresh.start, s.start);
          fresh.end = Math.max(fresh.end, s.end);
          fresh.acc = this.logic.merge(s.acc, fresh.acc);
          fresh.rev = Math.max(fresh.rev, s.rev);
        } else keep.push(s);
      }
    }
    keep.push(fresh);
    this.sessions.set(key, keep);
    if (fresh.end > this.wm) {
      this.timers.push(fresh.end, key);
      return 1;
    }
    // Complete already: a late update within allowed lateness.
    this.fire(key, fresh);
    this.timers.push(fresh.end + this.lateness, key);
    return 2;
  }

  private fire(key: unknown, s: Session<A>): void {
    this.out.emit(key, s.start, s.end, s.acc, s.rev);
    s.rev++;
    s.dirty = false;
  }

  nextFire(): number { return this.timers.peekTime(); }

  advance(wm: number): void {
    if (wm <= this.wm) return;
    this.wm = wm;
    while (this.timers.size > 0 && this.timers.peekTime() <= wm) {
      const key = this.timers.pop();
      const list = this.sessions.get(key);
      if (!list) continue;
      const keep: Session<A>[] = [];
      for (const s of list) {
        if (s.dirty && s.end <= wm) {
          this.fire(key, s);
          if (this.lateness > 0) this.timers.push(s.end + this.lateness, key);
        }
        if (s.end + this.lateness > wm) keep.push(s);
      }
      if (keep.length > 0) this.sessions.set(key, keep);
      else this.sessions.delete(key);
    }
  }

  stateSize(): number {
    let n = 0;
    for (const l of this.sessions.values()) n += l.length;
    return n;
  }
}
