// Input: the `partial` and `late` messages of a window's partials at every gateway, by the
// window's grouping (all gateways' partials of one key meet here), with the channel's
// watermark: the minimum over the gateways. Output: window results, as the aggregate run
// whole would emit them (revision 0 on firing, higher revisions for late updates), and
// too-late events on the late side output. State: per key and window, one accumulator, kept
// for allowed lateness after the window fires. Placement: cloud (issue 5's final merge).
import type { AggregateConfig } from '../graph/index.ts';
import { AlignedWindows } from './aligned-windows.ts';
import type { OpContext } from './operator.ts';
import { aggregateLogic, type WindowLogic } from './window-logic.ts';
import { WindowedOperator } from './windowed-operator.ts';
import type { PartialMessage } from './window-partial.ts';

/**
 * The cloud half of a split window aggregate. A partial merges into its window's accumulator;
 * a late event is assigned to its windows as the whole aggregate would assign it. Because the
 * windows fire on the minimum watermark over gateways, and each gateway sends a window's
 * partial before the watermark that passes its end, an on-time partial always finds its window
 * open. A partial that arrives after allowed lateness (its gateway was taken for offline and
 * came back) cannot be undone into events: it goes to the dead-letter stream, named.
 *
 * @example
 * const merge = new WindowMergeOp('per-machine', 0, ctx, aggregateConfig);
 */
export class WindowMergeOp extends WindowedOperator {
  private readonly store: AlignedWindows<unknown>;
  protected readonly logic: WindowLogic<unknown>;
  private readonly latenessMs: number;

  constructor(id: string, instance: number, ctx: OpContext, cfg: AggregateConfig) {
    super(id, 'aggregate', instance, ctx);
    const w = cfg.window;
    this.latenessMs = cfg.allowedLatenessMs;
    if (w.type === 'session') throw new Error(`operator "${id}": session windows cannot be split`);
    const agg = cfg.aggregator;
    const whole = aggregateLogic(agg);
    this.logic = {
      ...whole,
      add: (acc, msg) => {
        const m = msg as PartialMessage;
        return m.type === 'partial' ? agg.merge(acc, m.acc) : agg.add(acc, m.value);
      },
    };
    this.store = new AlignedWindows(w.sizeMs, w.type === 'sliding' ? w.slideMs : w.sizeMs, w.offsetMs, cfg.allowedLatenessMs, this.logic, this);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    const msg = value as PartialMessage;
    let got: number;
    try {
      got = msg.type === 'partial' ? this.store.addTo(msg.windowEnd, key, msg, 0) : this.store.add(ts, key, msg, 0);
    } catch (err) {
      this.reject(err, value);
      return;
    }
    if (got === 2) this.m.lateUpdates++;
    else if (got !== 0) return;
    else if (msg.type === 'late') {
      this.m.late++;
      this.lateOut.push(ts, key, msg.value);
    } else if (msg.windowEnd + this.latenessMs <= this.startWatermark) {
      // Closed before this run began: after a crash or a takeover, its producer sends again what
      // was not acked yet, and the window's result was written then — unless it was late then too.
      this.reject(`a partial of window [${msg.windowStart}, ${msg.windowEnd}) arrived after the window was final, before this part (re)started: resent after a crash or takeover, it was in the result written then; or it was late then as well, and the result misses it`, { key, ...msg });
    } else {
      this.reject(`a partial of window [${msg.windowStart}, ${msg.windowEnd}) arrived after its allowed lateness, so the merged result misses it`, { key, ...msg });
    }
  }

  /** The first watermark this run saw: a part resumed after a crash starts at where its results were final. */
  private startWatermark = -Infinity;
  private started = false;

  override watermark(wm: number): void {
    if (!this.started) { this.started = true; this.startWatermark = wm; }
    this.store.advance(wm);
    this.out.watermark(wm);
    this.lateOut.watermark(wm);
  }

  /** Number of (window, key) accumulators held, open and retained. */
  stateSize(): number { return this.store.stateSize(); }
}
