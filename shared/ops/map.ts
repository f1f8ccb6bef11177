// Input: any stream. Output: fn(value), same ts and key. State: none. Placement: anywhere, fused.
import { Operator, type OpContext } from './operator.ts';

export class MapOp extends Operator {
  constructor(id: string, instance: number, ctx: OpContext, private readonly fn: (v: unknown) => unknown) {
    super(id, 'map', instance, ctx);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    let v: unknown;
    try { v = this.fn(value); } catch (err) { this.reject(err, value); return; }
    this.m.out++;
    this.out.push(ts, key, v);
  }
}
