// Input: any stream. Output: the same events, keyed by fn(value); the next edge partitions by key.
// State: none. Placement: anywhere, fused.
import { Operator, type OpContext } from './operator.ts';

export class KeyByOp extends Operator {
  constructor(id: string, instance: number, ctx: OpContext, private readonly fn: (v: unknown) => unknown) {
    super(id, 'keyBy', instance, ctx);
  }

  push(ts: number, _key: unknown, value: unknown): void {
    this.countIn();
    let k: unknown;
    try { k = this.fn(value); } catch (err) { this.reject(err, value); return; }
    if (k === undefined || (typeof k === 'number' && Number.isNaN(k))) {
      this.reject('key selector returned no key (undefined or NaN)', value);
      return;
    }
    this.m.out++;
    this.out.push(ts, k, value);
  }
}
