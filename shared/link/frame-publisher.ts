import type { MqttClient } from 'mqtt';
import { framePayload } from './frame-store.ts';

/**
 * Buffers for a sender's data frames, reused once the broker has a frame (its PUBACK, or the
 * connection gone). Made fresh, a frame every few ms is external memory the GC frees only at
 * its next scavenge; with the disk reads of a drain, which allocates little else, such buffers
 * piled up until V8's external-memory limit forced a collection (sender RSS while draining,
 * BENCHMARKS.md). Small frames (a quiet channel's) are not pooled.
 */
const POOLED_FROM = 16 * 1024;

class FramePool {
  private readonly free: ArrayBuffer[] = [];

  /** Pooled buffers hold `bytes` (a frame's bound); at most `keep` wait for reuse. */
  constructor(
    private readonly bytes: number,
    private readonly keep: number,
  ) {}

  /** A buffer of exactly `n` bytes for one frame. */
  take(n: number): Uint8Array {
    if (n < POOLED_FROM || n > this.bytes) return new Uint8Array(n);
    return new Uint8Array(this.free.pop() ?? new ArrayBuffer(this.bytes), 0, n);
  }

  /** Takes a frame's buffer back once nothing reads the frame any more (ignored if not pooled). */
  give(frame: Uint8Array): void {
    if (frame.buffer.byteLength === this.bytes && this.free.length < this.keep) this.free.push(frame.buffer as ArrayBuffer);
  }
}

/** Publishes a sender's data frames at QoS 1, each frame's buffer reused once the broker has it. */
export class FramePublisher {
  private readonly pool: FramePool;

  constructor(
    private readonly client: MqttClient,
    private readonly topic: string,
    /** The largest frame (its items' byte bound and room for the header). */
    frameBytes: number,
    inflight: number,
  ) {
    this.pool = new FramePool(frameBytes, inflight + 2);
  }

  /** A buffer for a frame of `n` bytes (for `encodeDataFrame`). */
  readonly alloc = (n: number): Uint8Array => this.pool.take(n);

  /** Takes back the buffer of a frame that will not be published after all. */
  release(frame: Uint8Array): void { this.pool.give(frame); }

  publish(frame: Uint8Array): void {
    // QoS 1: the broker's PUBACK only ends the retransmission; trimming waits for the receiver.
    // The callback comes on the PUBACK, or when the frame is dropped with its connection.
    this.client.publish(this.topic, framePayload(this.client, frame), { qos: 1 }, () => this.pool.give(frame));
  }
}
