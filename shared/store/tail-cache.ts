/**
 * Recently committed write groups, kept in memory so a sender reading just behind the writer
 * never touches the disk. Bounded in bytes of the blocks held; entries are whole groups of
 * frames, whose blocks go back to the pool when the cache lets them go (readers copy out).
 */
import type { BlockPool } from './block-pool.ts';
import type { Segment } from './segment.ts';

export interface CachedGroup {
  readonly seg: Segment;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The group's frames in seq order, as written: runs of whole frames, views into `blocks`. */
  readonly runs: readonly Buffer[];
  readonly blocks: readonly Buffer[];
  /** Bytes of the blocks, what the bound counts. */
  readonly bytes: number;
}

/** The bounded list of recently committed groups, oldest first. */
export class TailCache {
  private groups: CachedGroup[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly pool: BlockPool,
  ) {}

  add(group: CachedGroup): void {
    if (this.maxBytes <= 0 || group.bytes > this.maxBytes) {
      this.clear();
      this.pool.give(group.blocks);
      return;
    }
    this.groups.push(group);
    this.bytes += group.bytes;
    let drop = 0;
    while (this.bytes > this.maxBytes) {
      const gone = this.groups[drop++] as CachedGroup;
      this.bytes -= gone.bytes;
      this.pool.give(gone.blocks);
    }
    if (drop > 0) this.groups = this.groups.slice(drop);
  }

  /** The cached group holding `seq`, if the cache reaches back that far. */
  find(seq: number): CachedGroup | undefined {
    const g = this.groups;
    const first = g[0];
    if (!first || seq < first.firstSeq) return undefined;
    let lo = 0;
    let hi = g.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((g[mid] as CachedGroup).lastSeq < seq) lo = mid + 1;
      else hi = mid;
    }
    const hit = g[lo];
    // A gap (a group dropped after compaction) must send the reader to disk, not skip ahead.
    return hit && hit.firstSeq <= seq ? hit : undefined;
  }

  /** Forgets groups of a segment whose file changed (compaction) or went away. */
  dropSegment(seg: Segment): void {
    const keep = this.groups.filter((x) => x.seg !== seg);
    if (keep.length === this.groups.length) return;
    for (const x of this.groups) if (x.seg === seg) this.pool.give(x.blocks);
    this.groups = keep;
    this.bytes = keep.reduce((n, x) => n + x.bytes, 0);
  }

  clear(): void {
    for (const x of this.groups) this.pool.give(x.blocks);
    this.groups = [];
    this.bytes = 0;
  }
}
