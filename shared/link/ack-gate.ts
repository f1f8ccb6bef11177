import type { Graph, WindowConfig } from '../graph/index.ts';

/**
 * How long after an event's time its results may still change, for the operators of one part:
 * `0` when no operator holds state (results are final once written), the longest window plus
 * its allowed lateness for event-time windows, or `Infinity` with the operator whose state has
 * no bound in event time (sessions, processing time, keyed process, exec).
 *
 * @example
 * resultHorizon(part.graph); // { ms: 70_000 } for 1-minute windows with 10 s allowed lateness
 */
export function resultHorizon(graph: Graph): { readonly ms: number; readonly unbounded?: string } {
  let ms = 0;
  for (const op of graph.operators) {
    const c = op.config;
    const w: WindowConfig | undefined = c.kind === 'aggregate' ? c.aggregate : c.kind === 'join' ? c.join : undefined;
    if (c.kind === 'process' || c.kind === 'exec') return { ms: Infinity, unbounded: `operator "${op.id}" (${c.kind}) keeps state with no bound in event time` };
    if (!w) continue;
    if (w.time === 'processing' || w.window.type === 'session') {
      return { ms: Infinity, unbounded: `operator "${op.id}" uses ${w.time === 'processing' ? 'processing-time' : 'session'} windows, whose end no event time bounds` };
    }
    ms = Math.max(ms, w.window.sizeMs + w.allowedLatenessMs);
  }
  return { ms };
}

interface Pending {
  /** The inbound channel and producer: acks are cumulative per pair. */
  readonly source: string;
  readonly seq: number;
  /** The newest event time delivered from this producer up to `seq`. */
  readonly maxTs: number;
  readonly ack: () => void;
}

/**
 * Holds a channel receiver's acks until the results of the acked events are written: an event
 * is final once the part's watermark has passed its time by the result horizon (every window
 * holding it has fired, and no revision can follow) and the sinks have written what that
 * produced. Then a crash of this process loses nothing a producer has deleted: whatever is not
 * acked yet is still in the producer's outbox and is sent again to whoever takes over.
 *
 * A part with several inbound channels (a join of two edge streams) is final only up to the
 * slowest channel's watermark, as its operators see it: the gate takes the minimum over them.
 *
 * @example
 * const gate = new AckGate(resultHorizon(part.graph).ms, () => run.flushed(), save, 50, ['readings']);
 * receiver({ durable: (p, seq, ack) => gate.delivered('readings', p, seq, ack), onWatermark: (wm) => gate.watermark('readings', wm) });
 */
export class AckGate {
  private pending: Pending[] = [];
  private readonly maxTs = new Map<string, number>();
  /** Each inbound channel's watermark; the part's is their minimum. */
  private readonly channelWm: Map<string, number>;
  private wm = -Infinity;
  private persisted = -Infinity;
  private running = false;
  private again = false;
  private closed = false;

  /**
   * `persist` saves the watermark whose results are final and written before any ack for them
   * goes out: a restarted part resumes from it (see part-bindings.ts), so windows that were final
   * before a crash are not fired again from the few of their events that are sent again.
   */
  constructor(
    private readonly horizonMs: number,
    private flush: () => Promise<void>,
    private readonly persist: (finalWatermark: number) => Promise<void> = () => Promise.resolve(),
    private readonly minIntervalMs = 50,
    channels: readonly string[] = [''],
  ) {
    this.channelWm = new Map(channels.map((c) => [c, -Infinity]));
  }

  /** Sets what writes the part's results (the run, once it has started). */
  setFlush(flush: () => Promise<void>): void { this.flush = flush; }

  /** Events up to `ts` were just delivered on `channel` from `producer`, before `durable` is called for them. */
  observed(channel: string, producer: string, ts: number): void {
    const source = sourceKey(channel, producer);
    if (ts > (this.maxTs.get(source) ?? -Infinity)) this.maxTs.set(source, ts);
  }

  /** The receiver of `channel` has everything of `producer` up to `seq`; `ack` tells the producer it is safe. */
  delivered(channel: string, producer: string, seq: number, ack: () => void): void {
    const source = sourceKey(channel, producer);
    this.pending.push({ source, seq, maxTs: this.maxTs.get(source) ?? -Infinity, ack });
    this.kick();
  }

  /** A channel's watermark moved: it was pushed through the operators before this call. */
  watermark(channel: string, wm: number): void {
    if (wm <= (this.channelWm.get(channel) ?? -Infinity)) return;
    this.channelWm.set(channel, wm);
    let min = Infinity;
    for (const w of this.channelWm.values()) if (w < min) min = w;
    if (min <= this.wm) return;
    this.wm = min;
    this.kick();
  }

  /** Entries waiting for their results to be final. */
  get waiting(): number { return this.pending.length; }

  /** Resolves once every ack that can be released now has been (call before closing, e.g. at the end of a stream). */
  async settle(): Promise<void> {
    this.kick();
    while (this.current) await this.current;
  }

  close(): void { this.closed = true; this.pending = []; }

  private current: Promise<void> | undefined;

  private kick(): void {
    if (this.running) { this.again = true; return; }
    this.running = true;
    this.current = this.cycle().finally(() => { this.running = false; this.current = undefined; });
  }

  private async cycle(): Promise<void> {
    do {
      this.again = false;
      const wm = this.wm;
      const upTo = this.pending.length;
      if (upTo === 0) return;
      // Everything the operators produced for these entries is in the writers now: write it out.
      // If that fails nothing is acked: the producers keep it, and the next delivery (their
      // resend, at the latest) tries again.
      const written = await this.flush().then(() => true, () => false);
      if (this.closed || !written) return;
      // Every result up to this watermark is written: say so durably before acking any of it.
      if (wm > this.persisted) {
        try { await this.persist(wm); this.persisted = wm; } catch { /* acked later, once a write succeeds */ }
        if (this.closed) return;
      }
      const finalWm = this.persisted;
      const ready = new Map<string, Pending>();
      const blocked = new Set<string>();
      const keep: Pending[] = [];
      for (let i = 0; i < upTo; i++) {
        const e = this.pending[i]!;
        // Acks are cumulative: per channel and producer, release only an unbroken prefix in seq order.
        if (!blocked.has(e.source) && (this.horizonMs === 0 || e.maxTs + this.horizonMs <= finalWm)) ready.set(e.source, e);
        else { blocked.add(e.source); keep.push(e); }
      }
      this.pending = keep.concat(this.pending.slice(upTo));
      for (const e of ready.values()) e.ack();
      // Batch the next round: one fsync of the watermark per interval, not one per frame.
      if (this.again && this.minIntervalMs > 0) await new Promise((r) => setTimeout(r, this.minIntervalMs));
    } while (this.again);
  }
}

const sourceKey = (channel: string, producer: string): string => `${channel}\u0000${producer}`;
