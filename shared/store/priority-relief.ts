/**
 * The priority overflow policy: while the log is over its byte bound, compact the oldest
 * sealed segment holding the lowest priority present, dropping that priority's records
 * oldest first, until retained bytes fall to 90% of the bound (the slack avoids compacting
 * on every append).
 */
import { compactSegment } from './compaction.ts';
import type { LogCounters } from './log-counters.ts';
import type { LogConfig } from './options.ts';
import type { Segment } from './segment.ts';
import type { SegmentIndex } from './segment-index.ts';
import type { TailCache } from './tail-cache.ts';

export interface ReliefContext {
  readonly cfg: LogConfig;
  readonly dir: string;
  readonly index: SegmentIndex;
  readonly cache: TailCache;
  readonly counters: LogCounters;
  durableSeq(): number;
  /** Seals the active segment so its records can be compacted once durable. */
  roll(): void;
}

/** Compacts until retained bytes are at 90% of the bound, or nothing more can go now. */
export async function relievePriority(ctx: ReliefContext): Promise<void> {
  const { index, cfg } = ctx;
  const target = cfg.maxBytes * 0.9;
  for (let round = 0; round < 64 && index.liveBytes > target; round++) {
    const durable = ctx.durableSeq();
    const ready = (s: Segment): boolean => s.sealed && s.created && s.totalRecords > 0 && s.lastSeq <= durable && s.lastSeq >= index.head;
    const candidates = index.segments.filter(ready);
    let lowest = 256;
    for (const s of candidates) {
      const p = s.lowestPriority();
      if (p >= 0 && p < lowest) lowest = p;
    }
    const active = index.active;
    if (active && !active.sealed && active.totalRecords > 0 && active.lowestPriority() < lowest) {
      // The lowest priority lives only in the active segment: seal it, compact it once durable.
      ctx.roll();
      if (!ready(active)) return;
      candidates.push(active);
      lowest = active.lowestPriority();
    }
    const seg = candidates.find((s) => (s.priorities[lowest] ?? 0) > 0);
    if (!seg) return;
    let need = index.liveBytes - target;
    const r = await compactSegment(cfg.fs, ctx.dir, index, seg, (_seq, priority, bytes) => {
      if (priority !== lowest || need <= 0) return true;
      need -= bytes;
      return false;
    });
    ctx.cache.dropSegment(seg);
    ctx.counters.evict('priority', r.dropped, r.droppedBytes);
  }
}
