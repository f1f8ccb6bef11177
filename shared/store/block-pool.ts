/**
 * Staging blocks for the disk log, reused. A block holds committed frames while the tail cache
 * keeps them and comes back here when the cache lets the group go, so a busy outbox stages
 * into the same few blocks instead of leaving a trail of buffers for the old-generation GC
 * (which would grow the RSS by tens of MB between collections). Reads copy out of cached
 * blocks, so no view into a block outlives its group.
 */
export const BLOCK_BYTES = 256 * 1024;

/** Free blocks, at most `maxFree` of them kept. */
export class BlockPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly maxFree: number) {}

  /**
   * A block for a group expected to take `expect` bytes, with room for a `size`-byte frame: a
   * pooled BLOCK_BYTES block for a busy log, a small one of its own (never pooled) for a
   * quiet log (groups under 16 KiB), so a cache of small groups does not pin a large block
   * each. The bound was 64 KiB: groups of 17–64 KiB (170 k events/s with a 2–3 ms group
   * commit) then took a fresh block each, and the GC of them doubled the p99 (BENCHMARKS.md).
   */
  take(size: number, expect: number): Buffer {
    if (size > BLOCK_BYTES) return Buffer.allocUnsafeSlow(size);
    if (expect < BLOCK_BYTES / 16) return Buffer.allocUnsafeSlow(Math.max(size, Math.min(BLOCK_BYTES, 4096 * Math.ceil((expect * 2) / 4096))));
    return this.free.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
  }

  /** Takes blocks back once nothing refers to them any more. */
  give(blocks: readonly Buffer[]): void {
    for (const b of blocks) if (b.byteLength === BLOCK_BYTES && this.free.length < this.maxFree) this.free.push(b);
  }
}
