// Input: any stream; each value is written to the program's stdin as a JSON line, or as a
// frame (4-byte big-endian length, then CBOR). Output: each line or frame the program writes to
// stdout, stamped with the event time of the latest input (never below the watermark already
// passed on) or read from the `eventTime` option. State: the write buffer and a partial output
// line. Placement: where the program exists (a node selector), otherwise anywhere.
import { spawn, type ChildProcess } from 'node:child_process';
import { decode, encode } from 'cbor-x';
import type { ExecConfig } from '../graph/index.ts';
import { Operator, type OpContext } from './operator.ts';
import { toMillis } from './source.ts';

const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** A program that ran this long without crashing gets its restart delay reset. */
const STABLE_MS = 10_000;

export class ExecOp extends Operator {
  private child: ChildProcess | undefined;
  private chunks: (string | Uint8Array)[] = [];
  private queued = 0;
  private held = false;
  private flushScheduled = false;
  private latestTs = -Infinity;
  private passedWm = -Infinity;
  private partialLine = '';
  private partialFrame: Buffer = Buffer.alloc(0);
  private ending = false;
  private closed = false;
  private restartDelay: number;
  private restartTimer: unknown;
  private startedAt = 0;
  private finished: (() => void) | undefined;
  private readonly timeOf: ((v: any) => number) | undefined;

  constructor(id: string, instance: number, ctx: OpContext, private readonly cfg: ExecConfig) {
    super(id, 'exec', instance, ctx);
    this.restartDelay = cfg.restartDelayMs;
    const et = cfg.eventTime;
    this.timeOf = et === undefined ? undefined : typeof et === 'function' ? et : (v: any) => toMillis(v?.[et]);
    this.start();
  }

  push(ts: number, _key: unknown, value: unknown): void {
    this.countIn();
    let encoded: string | Uint8Array;
    try {
      if (this.cfg.format === 'json') {
        const s = JSON.stringify(value);
        if (s === undefined) throw new Error('value has no JSON form');
        encoded = `${s}\n`;
      } else {
        const body = encode(value);
        const frame = Buffer.allocUnsafe(4 + body.length);
        frame.writeUInt32BE(body.length, 0);
        frame.set(body, 4);
        encoded = frame;
      }
    } catch (err) { this.reject(err, String(value)); return; }
    if (ts > this.latestTs) this.latestTs = ts;
    this.chunks.push(encoded);
    this.queued++;
    if (this.queued >= this.cfg.queueCapacity) this.hold();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  override watermark(wm: number): void {
    if (wm !== Infinity) {
      if (wm > this.passedWm) { this.passedWm = wm; this.out.watermark(wm); }
      return;
    }
    // End of input: let the program finish its output before the watermark moves on.
    this.ending = true;
    this.ctx.track(new Promise<void>((resolve) => {
      this.finished = () => {
        this.passedWm = Infinity;
        this.out.watermark(Infinity);
        resolve();
      };
      if (this.child) {
        this.flush();
        this.child.stdin?.end();
      } else if (this.restartTimer === undefined) this.finish();
      // Otherwise the pending restart hands the buffer to the new program, then ends its input.
    }));
  }

  private flush(): void {
    this.flushScheduled = false;
    const stdin = this.child?.stdin;
    if (!stdin || !stdin.writable || this.chunks.length === 0) return;
    const data = this.cfg.format === 'json' ? (this.chunks as string[]).join('') : Buffer.concat(this.chunks as Uint8Array[]);
    this.chunks = [];
    this.queued = 0;
    if (!stdin.write(data)) this.hold();
    else this.release();
  }

  private hold(): void {
    if (!this.held) { this.held = true; this.ctx.hold(this.id); }
  }

  private release(): void {
    if (this.held && this.queued < this.cfg.queueCapacity) { this.held = false; this.ctx.release(this.id); }
  }

  private start(): void {
    if (this.closed) return;
    let child: ChildProcess;
    try {
      child = spawn(this.cfg.command, [...this.cfg.args], { stdio: ['pipe', 'pipe', 'inherit'], cwd: this.cfg.cwd });
    } catch (err) {
      this.ctx.status({ type: 'exec-error', op: this.id, message: (err as Error).message });
      this.scheduleRestart(null, null);
      return;
    }
    this.child = child;
    this.startedAt = this.ctx.clock.now();
    this.partialLine = '';
    this.partialFrame = Buffer.alloc(0);
    child.stdin!.on('drain', () => this.release());
    child.stdin!.on('error', () => { /* EPIPE: the exit handler restarts the program */ });
    child.stdout!.on('data', (chunk: Buffer) => this.onOutput(chunk));
    child.on('error', (err) => this.ctx.status({ type: 'exec-error', op: this.id, message: `${this.cfg.command}: ${err.message}` }));
    child.on('spawn', () => this.ctx.status({ type: 'exec-started', op: this.id, pid: child.pid }));
    child.on('close', (code, signal) => this.onExit(child, code, signal));
    if (this.chunks.length > 0) queueMicrotask(() => this.flush());
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.emitPartial();
    if (this.closed) return;
    if (this.ending) {
      // Input is over and stdin closed: any exit ends the program's output (grep exits 1 on no match).
      if (code !== 0) this.ctx.status({ type: 'exec-error', op: this.id, message: `${this.cfg.command} exited with ${code ?? signal} at end of input` });
      this.finish();
      return;
    }
    this.scheduleRestart(code, signal);
  }

  private scheduleRestart(code: number | null, signal: string | null): void {
    this.m.restarts++;
    if (this.ctx.clock.now() - this.startedAt > STABLE_MS) this.restartDelay = this.cfg.restartDelayMs;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.cfg.maxRestartDelayMs);
    this.ctx.status({ type: 'exec-crashed', op: this.id, code, signal, restartInMs: delay });
    this.restartTimer = this.ctx.clock.setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
      // Input already ended: the new instance gets what was still buffered, then end of input.
      if (this.ending) { this.flush(); this.child?.stdin?.end(); }
    }, delay);
  }

  private finish(): void {
    if (this.chunks.length > 0) {
      // The program is gone for good with values still buffered: a counted, visible drop.
      this.m.dropped += this.chunks.length;
      this.ctx.status({ type: 'exec-error', op: this.id, message: `${this.chunks.length} values never reached ${this.cfg.command}` });
      this.chunks = [];
      this.queued = 0;
    }
    const f = this.finished;
    this.finished = undefined;
    f?.();
  }

  private onOutput(chunk: Buffer): void {
    this.ctx.batchStart = performance.now();
    if (this.cfg.format === 'json') this.onLines(chunk.toString('utf8'));
    else this.onFrames(chunk);
  }

  private onLines(text: string): void {
    const all = this.partialLine + text;
    let start = 0;
    for (let nl = all.indexOf('\n'); nl >= 0; nl = all.indexOf('\n', start)) {
      this.emitLine(all.slice(start, nl));
      start = nl + 1;
    }
    this.partialLine = all.slice(start);
    if (this.partialLine.length > MAX_LINE_CHARS) {
      this.reject(`output line longer than ${MAX_LINE_CHARS} characters`, `${this.partialLine.slice(0, 200)}…`);
      this.partialLine = '';
    }
  }

  private emitLine(line: string): void {
    if (line.trim() === '') return;
    let v: unknown;
    try { v = JSON.parse(line); } catch (err) { this.reject(`program output is not a JSON line (${(err as Error).message})`, line); return; }
    this.emitOut(v, line);
  }

  private onFrames(chunk: Buffer): void {
    let buf = this.partialFrame.length > 0 ? Buffer.concat([this.partialFrame, chunk]) : chunk;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) {
        // A bad length cannot be resynchronised: report it and start the program afresh.
        this.reject(`output frame of ${len} bytes exceeds ${MAX_FRAME_BYTES}`, buf.subarray(0, 64).toString('base64'));
        buf = Buffer.alloc(0);
        this.child?.kill('SIGKILL');
        break;
      }
      if (buf.length < 4 + len) break;
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      let v: unknown;
      try { v = decode(body); } catch (err) { this.reject(`program output frame is not CBOR (${(err as Error).message})`, Buffer.from(body).toString('base64')); continue; }
      this.emitOut(v, v);
    }
    this.partialFrame = Buffer.from(buf);
  }

  private emitPartial(): void {
    if (this.cfg.format === 'json' && this.partialLine.trim() !== '') this.emitLine(this.partialLine);
    this.partialLine = '';
  }

  private emitOut(v: unknown, raw: unknown): void {
    let ts = this.latestTs > this.passedWm ? this.latestTs : this.passedWm;
    if (this.timeOf !== undefined) {
      try { ts = this.timeOf(v); } catch { ts = NaN; }
      if (!Number.isFinite(ts)) { this.reject('program output has no event time', raw); return; }
    }
    this.m.out++;
    this.out.push(ts, undefined, v);
  }

  override close(): void {
    this.closed = true;
    if (this.restartTimer !== undefined) this.ctx.clock.clearTimeout(this.restartTimer);
    this.child?.kill('SIGTERM');
    this.child = undefined;
    this.finish();
  }
}
