// Input: a keyed stream (per-key windows) or any stream via a global edge (windowAll); a join
// takes two keyed inputs. Output: window results with ts = window end - 1, and late events on the
// late side output. State: per key and window, one accumulator (aggregate) or the buffered
// events (join), bounded by open windows x keys. Placement: where its key lives; decomposable
// aggregates can be split into an edge partial and a cloud merge.
import type { WindowConfig } from '../graph/index.ts';
import { AlignedWindows } from './aligned-windows.ts';
import type { OpContext } from './operator.ts';
import { SessionWindows } from './session-windows.ts';
import type { WindowLogic } from './window-logic.ts';
import { WindowedOperator } from './windowed-operator.ts';

type Store = AlignedWindows<unknown> | SessionWindows<unknown>;

/** Window aggregate and window join: one operator, the logic decides what a firing emits. */
export class WindowOp extends WindowedOperator {
  private readonly store: Store;
  private readonly processing: boolean;
  private timer: unknown;
  private timerAt = Infinity;

  constructor(id: string, kind: 'aggregate' | 'join', instance: number, ctx: OpContext,
    cfg: WindowConfig, protected readonly logic: WindowLogic<unknown>) {
    super(id, kind, instance, ctx);
    const w = cfg.window;
    this.store = w.type === 'session'
      ? new SessionWindows(w.gapMs, cfg.allowedLatenessMs, logic, this)
      : new AlignedWindows(w.sizeMs, w.type === 'sliding' ? w.slideMs : w.sizeMs, w.offsetMs, cfg.allowedLatenessMs, logic, this);
    this.processing = cfg.time === 'processing';
  }

  push(ts: number, key: unknown, value: unknown): void { this.add(ts, key, value, 0); }
  pushRight(ts: number, key: unknown, value: unknown): void { this.add(ts, key, value, 1); }

  private add(ts: number, key: unknown, value: unknown, side: 0 | 1): void {
    this.countIn();
    const t = this.processing ? this.ctx.clock.now() : ts;
    let got: number;
    try { got = this.store.add(t, key, value, side); } catch (err) { this.reject(err, value); return; }
    if (got === 0) {
      this.m.late++;
      this.lateOut.push(ts, key, value);
    } else if (got === 2) {
      this.m.lateUpdates++;
    }
    if (this.processing) this.schedule();
  }

  override watermark(wm: number): void {
    if (this.processing) {
      // Processing-time windows fire on the clock; only the end of input reaches them here.
      if (wm !== Infinity) return;
      this.cancel();
    }
    this.store.advance(wm);
    this.out.watermark(wm);
    this.lateOut.watermark(wm);
  }

  private schedule(): void {
    const at = this.store.nextFire();
    if (at >= this.timerAt) return;
    this.cancel();
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.ctx.clock.setTimeout(() => this.onTimer(), Math.max(0, at - this.ctx.clock.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.ctx.batchStart = performance.now();
    this.store.advance(this.ctx.clock.now());
    this.schedule();
  }

  private cancel(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  override close(): void { this.cancel(); }

  stateSize(): number { return this.store.stateSize(); }
}
