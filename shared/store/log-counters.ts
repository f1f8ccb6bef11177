/** Counters and status listeners both log kinds share. */
import type { EvictReason, LogEvent, LogListener, LogStats } from './types.ts';

/** The part of `LogStats` each log computes itself; the counters supply the rest. */
export type StatsCore = Pick<
  LogStats,
  'kind' | 'health' | 'firstSeq' | 'nextSeq' | 'durableSeq' | 'ackedSeq' | 'records' | 'bytes' | 'oldestAgeMs' | 'segments'
>;

/** Eviction, rejection, corruption and fault counters, plus the status-event listeners. */
export class LogCounters {
  readonly evicted: Record<EvictReason, number> = { size: 0, age: 0, priority: 0 };
  evictedBytes = 0;
  rejected = 0;
  corruptRecords = 0;
  truncatedBytes = 0;
  warnings = 0;
  faults = 0;
  lastFault: string | undefined;
  private readonly listeners = new Set<LogListener>();

  snapshot(core: StatsCore): LogStats {
    return {
      ...core,
      evicted: { ...this.evicted },
      evictedBytes: this.evictedBytes,
      rejected: this.rejected,
      corruptRecords: this.corruptRecords,
      truncatedBytes: this.truncatedBytes,
      warnings: this.warnings,
      faults: this.faults,
      lastFault: this.lastFault,
    };
  }

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: LogEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not break the log; it is the listener's to report.
      }
    }
  }

  evict(reason: EvictReason, records: number, bytes: number): void {
    if (records <= 0) return;
    this.evicted[reason] += records;
    this.evictedBytes += bytes;
    this.emit({ type: 'evicted', reason, records, bytes });
  }

  warn(code: string, message: string): void {
    this.warnings++;
    this.emit({ type: 'warning', code, message });
  }

  fault(code: string, message: string): void {
    this.faults++;
    this.lastFault = `${code}: ${message}`;
    this.emit({ type: 'fault', code, message });
  }
}

/** Resolvers waiting for a log to accept appends again. */
export class WritableWaiters {
  private list: (() => void)[] = [];

  get size(): number {
    return this.list.length;
  }

  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.list.push(resolve));
  }

  wakeAll(): void {
    const l = this.list;
    this.list = [];
    for (const r of l) r();
  }
}
