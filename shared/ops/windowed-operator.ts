import { NO_OUTPUT, Operator, type Collector } from './operator.ts';
import type { WindowEmitter, WindowLogic } from './window-logic.ts';

/**
 * What every windowed operator shares: the late side output, and turning a window store's
 * firings and late updates into output events (ts = window end - 1, the window's key). The
 * whole window operator and the cloud merge of a split aggregate differ only in how input
 * reaches their store.
 */
export abstract class WindowedOperator extends Operator implements WindowEmitter<unknown> {
  /** Events beyond allowed lateness go here (the `late()` side output). */
  lateOut: Collector = NO_OUTPUT;
  protected abstract readonly logic: WindowLogic<unknown>;
  private emitTs = 0;
  private emitKey: unknown;
  private readonly emitValue = (v: unknown): void => {
    this.m.out++;
    this.out.push(this.emitTs, this.emitKey, v);
  };

  emit(key: unknown, start: number, end: number, acc: unknown, revision: number): void {
    this.emitTs = end - 1;
    this.emitKey = key;
    try { this.logic.results(key, start, end, acc, revision, this.emitValue); } catch (err) { this.reject(err, { key, windowStart: start, windowEnd: end }); }
  }

  update(key: unknown, start: number, end: number, acc: unknown, value: unknown, side: 0 | 1, revision: number): void {
    this.emitTs = end - 1;
    this.emitKey = key;
    try { this.logic.updates(key, start, end, acc, value, side, revision, this.emitValue); } catch (err) { this.reject(err, value); }
  }
}
