// Input: any stream. Output: the events for which fn is true. State: none. Placement: anywhere, fused.
import { Operator, type OpContext } from './operator.ts';

export class FilterOp extends Operator {
  constructor(id: string, instance: number, ctx: OpContext, private readonly fn: (v: unknown) => boolean) {
    super(id, 'filter', instance, ctx);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    let keep: boolean;
    try { keep = this.fn(value); } catch (err) { this.reject(err, value); return; }
    if (keep) { this.m.out++; this.out.push(ts, key, value); }
  }
}
