// Input: one or more streams (union), or a window's late events (late side output).
// Output: every event unchanged; watermark = minimum over inputs. State: none. Placement: anywhere.
import { Operator, type OpContext } from './operator.ts';

export class PassOp extends Operator {
  constructor(id: string, kind: 'union' | 'late', instance: number, ctx: OpContext) {
    super(id, kind, instance, ctx);
  }

  push(ts: number, key: unknown, value: unknown): void {
    this.countIn();
    this.m.out++;
    this.out.push(ts, key, value);
  }
}
