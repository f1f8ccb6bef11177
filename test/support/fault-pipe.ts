/**
 * One direction of one proxied connection: reads chunks from `src`, holds each until its due
 * time (latency + seeded jitter, never reordering), and writes them to `dst` within the
 * bandwidth cap, optionally in small random slices, unless the link is blackholed.
 * Bytes are held (not dropped) while blackholed, as TCP would retransmit them after the outage.
 */
import type { Socket } from 'node:net';
import type { BandwidthShaper } from './bandwidth-shaper.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The live fault settings, shared by every pipe and read on each step. */
export interface LiveFaults {
  latencyMs: number;
  jitterMs: number;
  blackhole: boolean;
  /** 0: write chunks whole; n: write pieces of 1..n bytes, one per event-loop turn. */
  sliceMaxBytes: number;
}

/** Per-direction counters, shared by every pipe of that direction. */
export interface DirectionCounters {
  /** Chunks read from the source sockets. */
  chunks: number;
  /** Bytes written onward. */
  bytes: number;
  /** Writes made onward (more than chunks when slicing). */
  writes: number;
  /** Bytes read but not yet written onward. */
  held: number;
  /** For recent chunks: planned hold (latency + jitter) and actual hold, both ms on the proxy clock. */
  holds: { planned: number; actual: number }[];
}

interface Pending {
  buf: Buffer;
  arrived: number;
  due: number;
  started: boolean;
}

const HIGH_WATER = 1024 * 1024;
const MAX_HOLDS = 1000;

export class FaultPipe {
  private readonly queue: Pending[] = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private waitingDrain = false;
  private pausedForPressure = false;
  private ended = false;
  private disposed = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly faults: LiveFaults,
    private readonly shaper: BandwidthShaper,
    private readonly rng: SeededRandom,
    private readonly counters: DirectionCounters,
    private readonly onChange: () => void,
  ) {
    src.on('data', (chunk: Buffer) => this.push(chunk));
    src.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  /** Re-runs the pump after the fault settings changed (e.g. a blackhole was lifted). */
  kick(): void {
    this.clearSchedule();
    this.pump();
  }

  dispose(): void {
    this.disposed = true;
    this.clearSchedule();
    for (const p of this.queue) this.counters.held -= p.buf.length;
    this.queue.length = 0;
  }

  private push(chunk: Buffer): void {
    if (this.disposed) return;
    const now = performance.now();
    const jitter = this.faults.jitterMs > 0 ? this.rng.next() * this.faults.jitterMs : 0;
    // TCP never reorders, so a chunk is never due before the one ahead of it.
    const due = Math.max(now + this.faults.latencyMs + jitter, this.lastDue);
    this.lastDue = due;
    this.queue.push({ buf: chunk, arrived: now, due, started: false });
    this.counters.chunks++;
    this.counters.held += chunk.length;
    if (this.counters.held > HIGH_WATER && !this.pausedForPressure) {
      this.pausedForPressure = true;
      this.src.pause();
    }
    this.onChange();
    if (this.timer === undefined && this.immediate === undefined) this.pump();
  }

  private pump(): void {
    if (this.disposed) return;
    while (this.queue.length > 0) {
      if (this.faults.blackhole || this.waitingDrain || this.dst.destroyed) return;
      const head = this.queue[0]!;
      const now = performance.now();
      if (head.due > now) return this.schedule(head.due - now);
      let n = head.buf.length;
      if (this.faults.sliceMaxBytes > 0) n = Math.min(n, this.rng.int(1, this.faults.sliceMaxBytes));
      n = this.shaper.take(n, now);
      if (n === 0) return this.schedule(this.shaper.waitMs(now));
      if (!head.started) {
        head.started = true;
        this.counters.holds.push({ planned: head.due - head.arrived, actual: now - head.arrived });
        if (this.counters.holds.length > MAX_HOLDS) this.counters.holds.shift();
      }
      const piece = n === head.buf.length ? head.buf : head.buf.subarray(0, n);
      if (n === head.buf.length) this.queue.shift();
      else head.buf = head.buf.subarray(n);
      this.counters.held -= n;
      this.counters.bytes += n;
      this.counters.writes++;
      const flushed = this.dst.write(piece);
      this.onChange();
      if (!flushed) {
        this.waitingDrain = true;
        this.dst.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
      if (this.faults.sliceMaxBytes > 0 && this.queue.length > 0) {
        // One piece per turn, so the receiver reads the pieces separately.
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.pump();
        });
        return;
      }
    }
    if (this.pausedForPressure && this.counters.held < HIGH_WATER / 2) {
      this.pausedForPressure = false;
      this.src.resume();
    }
    if (this.ended && this.queue.length === 0) this.dst.end();
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }

  private clearSchedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
