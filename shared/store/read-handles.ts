/**
 * Segment files kept open for reading, so a sender replaying a backlog reads block after block
 * without an open and a close around each read (a quarter of the edge's CPU while draining,
 * issue 3). A handle belongs to one generation of its segment (compaction replaces the file)
 * and closes when its segment is dropped, replaced, or pushed out by newer ones, once no read
 * is using it.
 */
import type { FileLayer, LogFile } from './file-layer.ts';
import type { Segment } from './segment.ts';

/** One open segment file, shared by the reads in flight on it. */
export interface ReadHandle {
  readonly file: LogFile;
  readonly generation: number;
  users: number;
  retired: boolean;
}

/** The open read handles of one log, at most `max` of them. */
export class ReadHandles {
  private readonly open = new Map<Segment, ReadHandle>();
  private closed = false;

  constructor(private readonly max = 4) {}

  /** A handle on `seg`'s current file, opened if need be; pass it to `release` after reading. Throws what `fs.open` throws. */
  async acquire(fs: FileLayer, seg: Segment): Promise<ReadHandle> {
    const held = this.open.get(seg);
    if (held && held.generation === seg.generation) {
      held.users++;
      return held;
    }
    if (held) this.retire(seg, held);
    const generation = seg.generation;
    const file = await fs.open(seg.path, 'r');
    const raced = this.open.get(seg);
    if (raced && raced.generation === generation) {
      void file.close().catch(() => undefined);
      raced.users++;
      return raced;
    }
    if (raced) this.retire(seg, raced);
    // A read that outlived close() gets a handle of its own, closed when it is released.
    const h: ReadHandle = { file, generation, users: 1, retired: this.closed };
    if (this.closed) return h;
    this.open.set(seg, h);
    for (const [s, old] of this.open) {
      if (this.open.size <= this.max) break;
      if (s !== seg) this.retire(s, old);
    }
    return h;
  }

  release(h: ReadHandle): void {
    h.users--;
    if (h.retired && h.users === 0) void h.file.close().catch(() => undefined);
  }

  /** Closes `seg`'s handle (now, or when its last read ends): the file is being deleted. */
  drop(seg: Segment): void {
    const h = this.open.get(seg);
    if (h) this.retire(seg, h);
  }

  /** Closes every handle not in use; the ones in use close when their read ends. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const idle = [...this.open.values()].filter((h) => h.users === 0);
    for (const [s, h] of this.open) this.retire(s, h, false);
    await Promise.all(idle.map((h) => h.file.close().catch(() => undefined)));
  }

  private retire(seg: Segment, h: ReadHandle, closeNow = true): void {
    this.open.delete(seg);
    h.retired = true;
    if (closeNow && h.users === 0) void h.file.close().catch(() => undefined);
  }
}
