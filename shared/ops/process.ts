// Input: a keyed stream. Output: whatever the user function emits. State: one value per key,
// plus event-time and processing-time timers per key. Placement: where its key lives.
import type { ProcessContext, ProcessFunction } from '../graph/index.ts';
import { TimeHeap } from './heap.ts';
import { Operator, type OpContext } from './operator.ts';

interface Timer { key: unknown; at: number }

export class ProcessOp extends Operator {
  private readonly states = new Map<unknown, unknown>();
  private readonly eventTimers = new TimeHeap<Timer>();
  /** Dedupe: one timer per key and time, as Flink does. */
  private readonly registered = new Map<unknown, Set<number>>();
  private readonly processingTimers = new Set<unknown>();
  private key: unknown;
  private timestamp = 0;
  private wm = -Infinity;
  /** One context object, reused for every call: no allocation per event. */
  private readonly pctx: ProcessContext<unknown, unknown>;

  constructor(id: string, instance: number, ctx: OpContext, private readonly fn: ProcessFunction) {
    super(id, 'process', instance, ctx);
    const op = this;
    this.pctx = {
      get key() { return op.key; },
      get timestamp() { return op.timestamp; },
      get watermark() { return op.wm; },
      state: () => op.states.get(op.key),
      setState: (value) => {
        if (value === undefined) op.states.delete(op.key);
        else op.states.set(op.key, value);
      },
      emit: (value, ts) => {
        op.m.out++;
        op.out.push(ts ?? op.timestamp, op.key, value);
      },
      timers: {
        eventTime: (at) => op.addEventTimer(op.key, at),
        processingTime: (at) => op.addProcessingTimer(op.key, at),
      },
      now: () => op.ctx.clock.now(),
    };
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    this.key = key;
    this.timestamp = ts;
    try { this.fn.onEvent(value, this.pctx); } catch (err) { this.reject(err, value); }
  }

  override watermark(wm: number): void {
    this.wm = wm;
    while (this.eventTimers.size > 0 && this.eventTimers.peekTime() <= wm) {
      const t = this.eventTimers.pop();
      this.registered.get(t.key)?.delete(t.at);
      this.fire(t.key, t.at);
    }
    this.out.watermark(wm);
  }

  private fire(key: unknown, at: number): void {
    this.key = key;
    this.timestamp = at;
    try { this.fn.onTimer?.(at, this.pctx); } catch (err) { this.reject(err, { key, timer: at }); }
  }

  private addEventTimer(key: unknown, at: number): void {
    let set = this.registered.get(key);
    if (!set) { set = new Set(); this.registered.set(key, set); }
    if (set.has(at)) return;
    set.add(at);
    this.eventTimers.push(at, { key, at });
  }

  private addProcessingTimer(key: unknown, at: number): void {
    const handle = this.ctx.clock.setTimeout(() => {
      this.processingTimers.delete(handle);
      this.ctx.batchStart = performance.now();
      this.fire(key, at);
    }, Math.max(0, at - this.ctx.clock.now()));
    this.processingTimers.add(handle);
  }

  override close(): void {
    for (const h of this.processingTimers) this.ctx.clock.clearTimeout(h);
    this.processingTimers.clear();
  }

  stateSize(): number { return this.states.size; }
}
