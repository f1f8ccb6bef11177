// Input: any stream. Output: every item of fn(value), each with the input's ts and key.
// State: none. Placement: anywhere, fused.
import { Operator, type OpContext } from './operator.ts';

export class FlatMapOp extends Operator {
  constructor(id: string, instance: number, ctx: OpContext, private readonly fn: (v: unknown) => Iterable<unknown>) {
    super(id, 'flatMap', instance, ctx);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    let items: Iterable<unknown>;
    try { items = this.fn(value); } catch (err) { this.reject(err, value); return; }
    if (Array.isArray(items)) {
      // Arrays are the common case; index them rather than allocate an iterator.
      for (let i = 0; i < items.length; i++) { this.m.out++; this.out.push(ts, key, items[i]); }
      return;
    }
    try {
      for (const item of items) { this.m.out++; this.out.push(ts, key, item); }
    } catch (err) { this.reject(err, value); }
  }
}
