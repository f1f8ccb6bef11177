import type { Writable } from 'node:stream';
import type { SinkTarget } from '../ops/index.ts';

/**
 * A sink target writing one JSON line per value. Lines collect in memory for the current
 * batch and go out in one write; when the stream pushes back, sources are held until 'drain'.
 */
export class JsonLinesWriter implements SinkTarget {
  private buf: string[] = [];
  private scheduled = false;
  private held = false;
  private ended: Promise<void> | undefined;
  /** Resolves when the stream has taken every line written so far. */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Values that could not be written as JSON (reported to the dead-letter stream). */
  unwritable = 0;
  private readonly onDrainEvent = () => this.onDrain();

  constructor(
    private readonly stream: Writable,
    private readonly gate: { hold(who: string): void; release(who: string): void },
    private readonly who: string,
    private readonly closeStream: boolean,
    private readonly onUnwritable: (value: unknown, reason: string) => void,
  ) {
    stream.on('drain', this.onDrainEvent);
  }

  write(_ts: number, _key: unknown, value: unknown): void {
    let line: string | undefined;
    try { line = JSON.stringify(value); } catch (err) { this.fail(value, (err as Error).message); return; }
    if (line === undefined) { this.fail(value, 'value has no JSON form'); return; }
    this.buf.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private fail(value: unknown, reason: string): void {
    this.unwritable++;
    this.onUnwritable(String(value), `cannot write as JSON: ${reason}`);
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    let done!: () => void;
    this.lastWrite = new Promise<void>((resolve) => { done = resolve; });
    // The callback comes after this chunk (and every one before it) was handed to the file.
    if (!this.stream.write(text, () => done()) && !this.held) {
      this.held = true;
      this.gate.hold(this.who);
    }
  }

  private onDrain(): void {
    if (this.held) {
      this.held = false;
      this.gate.release(this.who);
    }
  }

  /** Resolves once every line written so far has been handed to the stream's file or pipe. */
  flushed(): Promise<void> {
    this.flush();
    return this.lastWrite;
  }

  end(): Promise<void> {
    this.ended ??= new Promise<void>((resolve, reject) => {
      this.flush();
      if (this.closeStream) {
        this.stream.once('error', reject);
        this.stream.end(() => resolve());
      } else if (this.stream.writableNeedDrain) {
        this.stream.once('drain', () => resolve());
      } else resolve();
    }).finally(() => {
      // A stream shared with other runs (a worker's lanes) outlives this writer.
      this.stream.removeListener('drain', this.onDrainEvent);
    });
    return this.ended;
  }
}
