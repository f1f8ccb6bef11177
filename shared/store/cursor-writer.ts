/**
 * Keeps the ack cursor on disk: requests coalesce into one write, and the writes are spaced at
 * least `intervalMs` apart. Without the spacing a busy link writes it once per ack, hundreds of
 * times a second, each a file write, two fsyncs and a rename: in the link benchmark that was a
 * fifth of the edge's CPU. A crash forgets at most one interval of ack progress, and the
 * receivers drop what is resent for it as duplicates.
 */
import type { Clock } from '../clock.ts';
import type { Cursor } from './cursor-file.ts';
import { IoQueue } from './io-queue.ts';

export interface CursorWriterHooks {
  /** The cursor to persist now. */
  current(): Cursor;
  /** Writes it (atomically); throws the file layer's error. */
  write(c: Cursor): Promise<void>;
  /** After each write, failed or not: deletes what the cursor no longer needs. */
  after(): Promise<void>;
  fault(err: unknown): void;
}

export class CursorWriter {
  /** Cursor writes run beside commits (another file), so a commit never waits behind one. */
  private readonly io = new IoQueue();
  private queued: Promise<void> | undefined;
  private persisted: Cursor = { acked: -1, head: -1, epoch: -1 };
  private lastStart = -Infinity;
  private timer: unknown = undefined;
  private release: (() => void) | undefined;

  constructor(private readonly clock: Clock, private readonly intervalMs: number, private readonly hooks: CursorWriterHooks) {}

  /** Resolves once the cursor as it is now is on disk; `now` skips the wait for the turn (close). */
  request(now = false): Promise<void> {
    this.queued ??= this.turn().then(() => this.io.run(() => this.persist()));
    if (now) this.hurry();
    return this.queued;
  }

  /** Resolves when the next write may start, `intervalMs` after the last one started. */
  private async turn(): Promise<void> {
    const wait = this.lastStart + this.intervalMs - this.clock.now();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        this.release = resolve;
        this.timer = this.clock.setTimeout(() => this.hurry(), wait);
      });
    }
    this.lastStart = this.clock.now();
  }

  private hurry(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private async persist(): Promise<void> {
    // Requests from here on need a write of their own: this one may miss what they ack.
    this.queued = undefined;
    const c = this.hooks.current();
    if (c.acked !== this.persisted.acked || c.head !== this.persisted.head || c.epoch !== this.persisted.epoch) {
      try {
        await this.hooks.write(c);
        this.persisted = c;
      } catch (err) {
        this.hooks.fault(err);
      }
    }
    await this.hooks.after().catch((err: unknown) => this.hooks.fault(err));
  }
}
