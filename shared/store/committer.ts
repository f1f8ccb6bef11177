/**
 * Group commit. Appends frame their records into staging blocks; one task writes the whole
 * group with a single synced write (or a write and an fsync), then reports it durable. A group starts writing
 * `groupCommitMs` after its first record (or at once past `groupCommitBytes`); while one group
 * is being written the next one gathers. A failed write keeps its group and retries with
 * backoff at the same file offset, so a half-written group is overwritten, not duplicated.
 * Blocks come from a pool and go back to it from the tail cache (block-pool.ts).
 */
import { BLOCK_BYTES, type BlockPool } from './block-pool.ts';
import type { IoQueue } from './io-queue.ts';
import type { LogConfig } from './options.ts';
import { encodeSegmentHeader, FRAME_HEADER_BYTES, writeFrame } from './frame.ts';
import type { Segment } from './segment.ts';

/** Frames staged for one segment, written as one unit. */
export class StagedPart {
  /** The blocks holding the frames, in order; the last may have room left. */
  readonly blocks: Buffer[] = [];
  /** Bytes used in each block. */
  private readonly used: number[] = [];
  len = 0;
  firstSeq = 0;
  lastSeq = 0;
  /** Set once a write of this part started; later appends go to a new part. */
  frozen = false;

  constructor(
    readonly seg: Segment,
    readonly fileOffset: number,
    readonly stagedAt: number,
    private readonly pool: BlockPool,
    /** Bytes the group is expected to take (the size of the one before it). */
    private readonly expect: number,
  ) {}

  /** Frames one record into the last block (a new one when it does not fit). */
  add(seq: number, ts: number, priority: number, payload: Uint8Array, count: number): void {
    const size = FRAME_HEADER_BYTES + payload.byteLength;
    let i = this.blocks.length - 1;
    if (i < 0 || (this.used[i] as number) + size > (this.blocks[i] as Buffer).byteLength) {
      // A group outgrowing its first block is a busy one: the rest goes in pooled blocks.
      this.blocks.push(this.pool.take(size, this.blocks.length === 0 ? this.expect : BLOCK_BYTES));
      this.used.push(0);
      i++;
    }
    const block = this.blocks[i] as Buffer;
    const at = this.used[i] as number;
    this.used[i] = writeFrame(block, at, seq, ts, priority, payload, count);
    this.len += size;
  }

  /** The bytes to write, and the tail cache's runs of frames: the used part of each block. */
  chunks(): Buffer[] {
    return this.blocks.map((b, i) => b.subarray(0, this.used[i]));
  }
}

export interface CommitHooks {
  durable(part: StagedPart): void;
  fault(err: unknown): void;
  recovered(): void;
}

/** Stages frames and writes them as groups, one write and one fsync per segment per group. */
export class Committer {
  private parts: StagedPart[] = [];
  pendingBytes = 0;
  faulted: unknown = undefined;
  private timer: unknown = undefined;
  private running: Promise<void> | undefined;
  private retryDelay: number;
  private retryWait = 0;
  /** Size of the last group written, to size the blocks of the next. */
  private lastGroupBytes = 0;

  constructor(
    private readonly cfg: LogConfig,
    private readonly dir: string,
    private readonly io: IoQueue,
    private readonly hooks: CommitHooks,
    private readonly pool: BlockPool,
  ) {
    this.retryDelay = cfg.retryMs;
  }

  /** Frames one record covering `count` seqs from `seq` for `seg`; returns the file offset the frame will sit at. */
  stage(seg: Segment, seq: number, ts: number, priority: number, payload: Uint8Array, count: number): number {
    const size = FRAME_HEADER_BYTES + payload.byteLength;
    let part = this.parts[this.parts.length - 1];
    if (!part || part.frozen || part.seg !== seg) {
      part = new StagedPart(seg, seg.stagedEnd, this.cfg.clock.now(), this.pool, this.lastGroupBytes);
      part.firstSeq = seq;
      this.parts.push(part);
    }
    const offset = part.fileOffset + part.len;
    part.add(seq, ts, priority, payload, count);
    part.lastSeq = seq + count - 1;
    seg.stagedEnd += size;
    this.pendingBytes += size;
    // While faulted, only the backoff timer retries; a burst of appends must not spin on a dead disk.
    if (this.pendingBytes >= this.cfg.groupCommitBytes && this.faulted === undefined) this.kick();
    else this.schedule();
    return offset;
  }

  /** Whether staged records of `seg` wait for their write. */
  holds(seg: Segment): boolean {
    return this.parts.some((p) => p.seg === seg);
  }

  /** Whether some staged record has not been written yet. */
  get pending(): boolean {
    return this.parts.length > 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.running || this.parts.length === 0) return;
    const first = this.parts[0] as StagedPart;
    // A group that filled up while the last one was written goes at once, not at its window's end.
    const full = this.pendingBytes >= this.cfg.groupCommitBytes;
    const wait = this.faulted ? this.retryWait : full ? 0 : first.stagedAt + this.cfg.groupCommitMs - this.cfg.clock.now();
    if (wait <= 0 && !this.faulted) {
      this.kick();
      return;
    }
    this.timer = this.cfg.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, Math.max(0, wait));
  }

  /** Starts writing what is staged now (unless a write is already running). */
  kick(): void {
    if (this.running || this.parts.length === 0) return;
    if (this.timer !== undefined) {
      this.cfg.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = this.io
      .run(() => this.writeParts(this.parts.length))
      .catch((err: unknown) => this.hooks.fault(err))
      .then(() => {
        this.running = undefined;
        this.schedule();
      });
  }

  /** Writes everything staged, once; resolves false if a fault left records unwritten. */
  async flush(): Promise<boolean> {
    if (this.timer !== undefined) {
      this.cfg.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) await this.running;
    if (this.timer !== undefined) {
      this.cfg.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.parts.length > 0) await this.io.run(() => this.writeParts(this.parts.length)).catch((err: unknown) => this.hooks.fault(err));
    if (this.timer !== undefined) {
      this.cfg.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    return this.parts.length === 0;
  }

  private async writeParts(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const part = this.parts[0];
      if (!part) return;
      part.frozen = true;
      const seg = part.seg;
      try {
        // A file that syncs its writes makes the group durable in one call, not two (write,
        // then fsync): one hop less through libuv's threads, each a wait on a busy machine.
        if (!seg.file) seg.file = await this.cfg.fs.open(seg.path, seg.created ? 'r+' : 'w', { syncWrites: true });
        const chunks = part.chunks();
        if (seg.created) await seg.file.writev(chunks, part.fileOffset);
        else await seg.file.writev([encodeSegmentHeader(seg.base), ...chunks], 0);
        if (!seg.file.syncsWrites) await seg.file.sync();
        if (!seg.created) {
          await this.cfg.fs.syncDir(this.dir);
          seg.created = true;
        }
      } catch (err) {
        this.faulted = err;
        this.hooks.fault(err);
        this.retryWait = this.retryDelay;
        this.retryDelay = Math.min(this.retryDelay * 2, this.cfg.retryMaxMs);
        return;
      }
      this.parts.shift();
      this.pendingBytes -= part.len;
      this.lastGroupBytes = part.len;
      seg.durableEnd = part.fileOffset + part.len;
      if (this.faulted !== undefined) {
        this.faulted = undefined;
        this.retryDelay = this.cfg.retryMs;
        this.hooks.recovered();
      }
      this.hooks.durable(part);
      if (seg.sealed && seg.file && !this.parts.some((p) => p.seg === seg)) {
        const f = seg.file;
        seg.file = undefined;
        await f.close().catch(() => undefined);
      }
    }
  }

  /** Drops everything unwritten (close after a fault that would not clear). */
  discard(): void {
    this.parts = [];
    this.pendingBytes = 0;
  }
}
