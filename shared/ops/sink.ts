// Input: any stream. Output: none; values go to the bound target (file, stdio, channel, callback).
// State: none. Placement: where its target is reachable.
import { Operator, type OpContext } from './operator.ts';

/** Where a sink writes. `write` must not block; a full target calls ctx.hold(...) until it drains. */
export interface SinkTarget {
  write(ts: number, key: unknown, value: unknown): void;
  /** Every watermark, for targets that pass time on (channels); files ignore it. */
  watermark?(wm: number): void;
  /** Called at the final watermark; resolves when everything is written. */
  end(): Promise<void>;
  /** Resolves once everything written so far has left this process (is in a file or a durable outbox). */
  flushed?(): Promise<void>;
}

export class SinkOp extends Operator {
  constructor(id: string, instance: number, ctx: OpContext, private readonly target: SinkTarget) {
    super(id, 'sink', instance, ctx);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    this.m.out++;
    this.target.write(ts, key, value);
  }

  override watermark(wm: number): void {
    this.target.watermark?.(wm);
    if (wm === Infinity) this.ctx.track(this.target.end());
  }
}
