import type { Clock } from '../clock.ts';
import { LATENCY_SAMPLE_MASK, OpMetrics } from './metrics.ts';

/**
 * Where an operator sends its output. Events travel as three arguments, never wrapped in an
 * object, so a fused chain allocates nothing per event between operators.
 */
export interface Collector {
  push(ts: number, key: unknown, value: unknown): void;
  /** Event time has reached `wm`: no event with ts < wm will follow. `Infinity` ends the input. */
  watermark(wm: number): void;
}

export const NO_OUTPUT: Collector = Object.freeze({ push() {}, watermark() {} });

/** A runtime fault or notice worth showing to the user; never thrown across the system. */
export type StatusEvent =
  | { type: 'exec-started'; op: string; pid: number | undefined }
  | { type: 'exec-crashed'; op: string; code: number | null; signal: string | null; restartInMs: number }
  | { type: 'exec-error'; op: string; message: string }
  | { type: 'source-error'; op: string; message: string }
  | { type: 'source-resumed'; op: string; after: number }
  | { type: 'source-ended'; op: string; records: number };

export interface DeadLetter {
  /** The operator or source that rejected it. */
  op: string;
  reason: string;
  /** The offending line (text), bytes (base64) or value. */
  payload: unknown;
}

/** What the runtime gives every operator. */
export interface OpContext {
  readonly clock: Clock;
  deadLetter(letter: DeadLetter): void;
  status(event: StatusEvent): void;
  /** Start of the source batch being processed (performance.now()), for latency samples. */
  batchStart: number;
  /** Async operators call this when their buffer is full; sources wait until `release` is called. */
  hold(op: string): void;
  release(op: string): void;
  /** Async work an operator must finish before the run may end (e.g. a child process draining). */
  track(done: Promise<void>): void;
}

/** Base of every operator instance: identity, metrics, output, and a default watermark path. */
export abstract class Operator implements Collector {
  out: Collector = NO_OUTPUT;
  readonly m: OpMetrics;

  constructor(readonly id: string, kind: string, instance: number, protected readonly ctx: OpContext) {
    this.m = new OpMetrics(id, kind, instance);
  }

  abstract push(ts: number, key: unknown, value: unknown): void;

  watermark(wm: number): void {
    this.out.watermark(wm);
  }

  /** Called once when the run stops (after the final watermark, or on abort). */
  close(): void {}

  /** Counts one event in and, for one in 1024, records its latency since the batch began. */
  protected countIn(): void {
    if ((++this.m.in & LATENCY_SAMPLE_MASK) === 0) this.m.latency.record((performance.now() - this.ctx.batchStart) * 1000);
  }

  protected reject(reason: unknown, payload: unknown): void {
    this.m.deadLettered++;
    this.ctx.deadLetter({ op: this.id, reason: reason instanceof Error ? reason.message : String(reason), payload });
  }
}

/** Operators with several inputs: the watermark is the minimum over all of them. */
export class WatermarkMerge {
  private readonly marks: number[];
  private current = -Infinity;

  constructor(inputs: number, private readonly onAdvance: (wm: number) => void) {
    this.marks = new Array<number>(inputs).fill(-Infinity);
  }

  update(input: number, wm: number): void {
    if (wm <= this.marks[input]!) return;
    this.marks[input] = wm;
    let min = Infinity;
    for (const m of this.marks) if (m < min) min = m;
    if (min > this.current) {
      this.current = min;
      this.onAdvance(min);
    }
  }
}
