/**
 * Recently committed write groups, kept in memory so a sender reading just behind the writer
 * never touches the disk. Bounded in bytes; entries are whole groups of frames.
 */
import type { Segment } from './segment.ts';

export interface CachedGroup {
  readonly seg: Segment;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Consecutive frames, as written. */
  readonly frames: Buffer;
}

/** The bounded list of recently committed groups, oldest first. */
export class TailCache {
  private groups: CachedGroup[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(group: CachedGroup): void {
    if (this.maxBytes <= 0 || group.frames.byteLength > this.maxBytes) {
      this.clear();
      return;
    }
    this.groups.push(group);
    this.bytes += group.frames.byteLength;
    let drop = 0;
    while (this.bytes > this.maxBytes) this.bytes -= (this.groups[drop++] as CachedGroup).frames.byteLength;
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
    this.groups = keep;
    this.bytes = keep.reduce((n, x) => n + x.frames.byteLength, 0);
  }

  clear(): void {
    this.groups = [];
    this.bytes = 0;
  }
}
