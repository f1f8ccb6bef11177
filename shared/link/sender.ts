import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../clock.ts';
import type { Collector } from '../ops/index.ts';
import type { LogRecord, OutboxLog, Span } from '../store/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeDataFrame, type EncodedDataFrame } from '../wire/index.ts';
import { keepNoDelay } from './no-delay.ts';
import { DrainWaiters } from './drain-waiters.ts';
import { FramePublisher } from './frame-publisher.ts';
import { readSpan, toSpans, type Cut, type PendingEvent } from './outbox-record.ts';
import { TokenBucket } from './token-bucket.ts';
import { WatermarkMarks } from './watermark-marks.ts';
import type { ChannelSenderOptions, ChannelSenderStats } from './sender-options.ts';

export type { ChannelSenderOptions, ChannelSenderStats } from './sender-options.ts';

/** Room left in a frame for its header: a span's items never pass the frame's byte bound less this. */
const FRAME_HEADER_ROOM = 1024;

/**
 * The sending end of a channel: a Collector whose events go to the outbox log, then out as
 * CBOR data frames over MQTT QoS 1. The events pushed in one tick are encoded together and
 * stored as span records (outbox-record.ts), which frames carry as they are. The outbox trims
 * only on the receiver's end-to-end ack, never on the broker's PUBACK. An idle link sends at
 * once; a busy one batches, because events keep accumulating in the log while the in-flight
 * window is full.
 *
 * @example
 * const sender = createChannelSender({ client, app: 'plant', channel: 'readings', producer: 'gw-7', log });
 * fragment.sources.get('readings')!.out = sender; // or use it as a sink target
 */
export function createChannelSender(opts: ChannelSenderOptions): ChannelSender {
  return new ChannelSender(opts);
}

export class ChannelSender implements Collector {
  private readonly client: MqttClient;
  private readonly log: OutboxLog;
  private readonly ackTopic: string;
  private readonly clock: Clock;
  private readonly producer: string;
  private readonly epoch: number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly maxInflight: number;
  private readonly frames: FramePublisher;
  /** A span always fits one frame: within its byte bound less the header, and the outbox's record bound. */
  private readonly maxSpanBytes: number;
  private readonly ackTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly bucket: TokenBucket;
  private rateTimer: unknown;
  private pending: PendingEvent[] = [];
  /** Where source batches end in `pending`: after `at` events, input reached `position`. */
  private cuts: Cut[] = [];
  private flushScheduled = false;
  /** Resolves with the last seq appended so far, in append order. */
  private appended: Promise<number> = Promise.resolve(0);
  private readonly marks = new WatermarkMarks();
  private nextSeq: number;
  private acked: number;
  /** Highest seq the receiver has (maybe not yet durable). */
  private received: number;
  private inflight: number[] = [];
  private sending = false;
  private again = false;
  private lastProgress: number;
  private lastSent = 0;
  private timer: unknown;
  private closed = false;
  private held = false;
  private highestSent = 0;
  /** The newest watermark sent, and the newest the receiver confirmed holding. */
  private sentWatermark = -Infinity;
  private ackedWatermark = -Infinity;
  private readonly drains = new DrainWaiters((seq, watermark) => this.acked >= seq && this.ackedWatermark >= watermark);
  private readonly stats_: ChannelSenderStats;
  private readonly onMessage: (topic: string, payload: Buffer) => void;
  private readonly onConnect: () => void;
  private readonly stopNoDelay: () => void;

  constructor(private readonly opts: ChannelSenderOptions) {
    this.client = opts.client;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.producer = opts.producer;
    this.epoch = opts.epoch ?? opts.log.epoch;
    this.ackTopic = channelAckTopic(opts.app, opts.channel, opts.partition ?? 0, opts.producer);
    this.maxEvents = opts.maxEventsPerFrame ?? 1000;
    this.maxBytes = opts.maxBytesPerFrame ?? 256 * 1024;
    this.maxInflight = opts.maxInflightFrames ?? 8;
    this.frames = new FramePublisher(this.client, channelDataTopic(opts.app, opts.channel, opts.partition ?? 0), this.maxBytes + 4096, this.maxInflight);
    this.maxSpanBytes = Math.max(1, Math.min(this.maxBytes - FRAME_HEADER_ROOM, this.log.maxRecordBytes));
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 5000;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.bucket = new TokenBucket(opts.maxEventsPerSecond ?? Infinity, this.maxEvents, this.clock);
    const st = this.log.stats();
    this.acked = st.ackedSeq;
    this.received = st.ackedSeq;
    this.nextSeq = st.ackedSeq + 1;
    this.lastProgress = this.clock.now();
    this.stats_ = { appended: 0, framesSent: 0, eventsSent: 0, eventsResent: 0, ackedSeq: st.ackedSeq, receivedSeq: st.ackedSeq, resendRequests: 0, appendRetries: 0, droppedUnsent: 0, droppedClosed: 0, droppedTooLarge: 0, replaySkipped: 0, sendErrors: 0 };
    this.toSkip = opts.skipReplayed ?? 0;
    this.onMessage = (topic, payload) => { if (topic === this.ackTopic) this.onControl(payload); };
    // After a reconnect nothing in flight can be trusted: resend from the last acked seq, once
    // the ack topic is subscribed again (acks sent before that would be lost: a clean session).
    this.onConnect = () => {
      this.rewind(this.acked + 1, false);
      void this.client.subscribeAsync(this.ackTopic, { qos: 1 }).catch(() => {}).then(() => this.kick());
    };
    this.stopNoDelay = keepNoDelay(this.client);
    this.client.on('message', this.onMessage);
    this.client.on('connect', this.onConnect);
    if (this.client.connected) this.onConnect();
    this.schedule();
  }

  push(ts: number, key: unknown, value: unknown): void {
    if (this.toSkip > 0) { this.toSkip--; this.stats_.replaySkipped++; return; }
    if (this.closed) { this.stats_.droppedClosed++; return; }
    this.pending.push([ts, key, value]);
    this.sinceMark++;
    this.scheduleFlush();
  }

  private toSkip = 0;
  /** An event that fits no record or frame (bad input): counted and left out, never stored (issue 3). */
  private readonly tooLarge = (bytes: number): void => { this.stats_.droppedTooLarge++; this.stats_.lastTooLarge = `an event of ${bytes} encoded bytes, over the ${this.maxSpanBytes}-byte bound of one outbox record and frame`; };
  /** Events pushed since the last position mark: only those belong to the next source batch. */
  private sinceMark = 0;

  /** Resolves once the newest ack has been applied to the outbox (records trimmed, cursor durable). */
  private trimmed: Promise<void> = Promise.resolve();
  private positionsSaved: Promise<unknown> = Promise.resolve();
  private pendingWm = -Infinity;

  /**
   * The events pushed since the last flush come from input up to `record` of `source`: the span
   * holding the last of them carries that position, so it becomes durable in the same append.
   */
  markPosition(source: string, record: number): void {
    if (this.sinceMark === 0 || this.pending.length === 0) return; // nothing of that batch went this way
    this.sinceMark = 0;
    this.cuts.push({ at: this.pending.length, position: { source, record } });
  }

  /**
   * The watermark covers every event pushed before it. It is applied at the end of the current
   * batch, with one append per batch: an event pushed after it with an earlier time was late at
   * its source already, so the receiver sees the same order of time either way.
   */
  watermark(wm: number): void {
    if (wm > this.pendingWm) this.pendingWm = wm;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flushPending());
  }

  private flushPending(): void {
    this.flushScheduled = false;
    const batch = this.pending.length > 0 ? toSpans(this.pending, this.cuts, this.maxEvents, this.maxSpanBytes, this.tooLarge) : [];
    const wm = this.pendingWm;
    this.pending = [];
    this.cuts = [];
    const prev = this.appended;
    // The log numbers appends in call order, so a batch starts at once and group-commits with
    // the ones before it; only while the outbox refuses appends do they wait their turn, so that
    // a retried batch cannot fall behind a later one.
    let started: Promise<number> | undefined;
    if (batch.length > 0) started = this.held || !this.log.isWritable() ? prev.then(() => this.append(batch)) : this.append(batch);
    this.appended = Promise.all([prev, started]).then(([before, last]) => {
      const upTo = last ?? before;
      if (wm > -Infinity) this.marks.add(upTo, wm);
      this.kick();
      return upTo;
    });
  }

  /** Appends a batch of spans, waiting out a full outbox (reject policy) instead of losing events. */
  private async append(batch: Span[]): Promise<number> {
    for (;;) {
      // Closed meanwhile, or while waiting for a full outbox: not stored, counted.
      if (this.closed) { this.stats_.droppedClosed += batch.reduce((n, s) => n + s.count, 0); return this.log.stats().durableSeq; }
      try {
        const range = await this.log.appendSpans(batch, { ts: this.clock.now() });
        this.stats_.appended += range.last - range.first + 1;
        if (this.held) { this.held = false; this.opts.onPressure?.(false); }
        return range.last;
      } catch (err) {
        if (!(err as { retryable?: boolean }).retryable) throw err;
        this.stats_.appendRetries++;
        if (!this.held) { this.held = true; this.opts.onPressure?.(true); }
        await this.log.whenWritable();
      }
    }
  }

  private kick(): void {
    if (this.sending) { this.again = true; return; }
    this.sending = true;
    // A fault here is counted and the loop tried again on the next kick: it never takes the node down.
    void this.sendLoop().catch((err: unknown) => {
      this.stats_.sendErrors++;
      this.stats_.lastSendError = err instanceof Error ? err.message : String(err);
    }).finally(() => {
      this.sending = false;
      if (this.again) { this.again = false; this.kick(); }
    });
  }

  private async sendLoop(): Promise<void> {
    while (!this.closed && this.client.connected && this.inflight.length < this.maxInflight) {
      if (this.nextSeq > this.log.durableSeq) {
        // Nothing new to send, but time moved on: tell the receiver now, not with the next event.
        const wm = this.marks.at(this.nextSeq - 1);
        if (wm > this.sentWatermark) this.publishWatermark(wm);
        return;
      }
      const allowed = this.allowance();
      if (allowed === 0) return;
      // The frame is built while the read lends the records: no copy of them out of the log.
      // A rewind (a resend request, a reconnect) or an ack from a receiver that is ahead can
      // move nextSeq while the read runs: records read from the old place are then not sent as
      // if they followed the new one (the gap between would read as dropped by the outbox).
      const from = this.nextSeq;
      const frame = await this.log.readWith(from, allowed, this.maxBytes, (read) => (this.nextSeq === from ? this.frameOf(read, from) : null));
      if (frame === undefined) return;
      if (frame === null || this.nextSeq !== from) {
        if (frame) this.frames.release(frame.bytes);
        // All acked meanwhile: go on after the ack.
        if (this.nextSeq <= this.acked) this.nextSeq = this.acked + 1;
        continue;
      }
      if (frame.resent) this.stats_.eventsResent += frame.count;
      this.bucket.spend(frame.count);
      this.send(frame.bytes, frame.watermark);
      this.inflight.push(frame.last);
      this.nextSeq = frame.last + 1;
      this.stats_.framesSent++;
      this.stats_.eventsSent += frame.count;
      if (frame.last > this.highestSent) this.highestSent = frame.last;
    }
  }

  /**
   * The next data frame, encoded, from records read at `from`: undefined when there were none,
   * null when all were acked meanwhile.
   */
  private frameOf(read: readonly LogRecord[], from: number): { bytes: Uint8Array; last: number; count: number; watermark: number; resent: boolean } | null | undefined {
    if (read.length === 0) return undefined;
    // An ack may have moved on while the read ran: what is acked is not sent again (a span
    // the ack reached into goes again whole: the receiver drops the seqs it has).
    const records = read.filter((r) => r.seq + r.count - 1 > this.acked);
    if (records.length === 0) return null;
    // One frame per contiguous run; a jump in seqs is records the outbox dropped by policy.
    const expected = Math.max(from, this.acked + 1);
    const first = records[0]!.seq;
    const dropped = first > expected ? first - expected : 0;
    // Evicted after being sent, they were delivered (or will be re-asked for): count only the rest.
    if (dropped > 0) this.stats_.droppedUnsent += Math.max(0, first - Math.max(expected, this.highestSent + 1));
    // The stored CBOR items go into the frame as they are (issue 3): only the position a
    // span ending a source batch carries is decoded here.
    const items: Uint8Array[] = [];
    let last = first - 1;
    for (const r of records) {
      if (r.seq !== last + 1) break;
      const span = readSpan(r);
      items.push(span.items);
      last = r.seq + r.count - 1;
      if (span.position && this.opts.positions) this.opts.positions.note(last, span.position.source, span.position.record);
    }
    const count = last - first + 1;
    const watermark = this.marks.at(last);
    const frame: EncodedDataFrame = {
      type: 'data', producer: this.producer, epoch: this.epoch, firstSeq: first, lastSeq: last,
      watermark, items, itemCount: count, ...(dropped > 0 ? { dropped } : {}), baseSeq: Math.min(this.acked, first - dropped - 1),
    };
    const resent = first <= this.stats_.ackedSeq || first < this.highestSent;
    return { bytes: encodeDataFrame(frame, undefined, this.frames.alloc), last, count, watermark, resent };
  }

  /** Events the rate cap lets out now; when none, a timer wakes the send loop when some are. */
  private allowance(): number {
    const n = this.bucket.available(this.maxEvents);
    if (n === 0 && this.rateTimer === undefined) {
      this.rateTimer = this.clock.setTimeout(() => { this.rateTimer = undefined; this.kick(); }, this.bucket.msUntilOne());
    }
    return n;
  }

  private publishWatermark(wm: number): void {
    const heartbeat: EncodedDataFrame = { type: 'data', producer: this.producer, epoch: this.epoch, firstSeq: this.nextSeq, lastSeq: this.nextSeq - 1, watermark: wm, items: [], baseSeq: Math.min(this.acked, this.nextSeq - 1) };
    this.send(encodeDataFrame(heartbeat), wm);
  }

  private send(bytes: Uint8Array, watermark: number): void {
    this.lastSent = this.clock.now();
    if (watermark > this.sentWatermark) this.sentWatermark = watermark;
    this.frames.publish(bytes);
  }

  private onControl(payload: Buffer): void {
    const r = decodeFrame(payload);
    if (!r.ok || r.frame.producer !== this.producer || r.frame.epoch !== this.epoch) return;
    if (r.frame.type === 'ack') this.onAck(r.frame.ackedSeq, r.frame.watermark, r.frame.receivedSeq);
    else if (r.frame.type === 'resend') {
      this.stats_.resendRequests++;
      this.rewind(r.frame.fromSeq, true);
      this.kick();
    }
  }

  /**
   * An ack: `received` (or `seq`, from a receiver that sends only one) frees in-flight slots, so
   * sending goes on while the receiver makes results durable; only `seq` trims the outbox.
   */
  private onAck(seq: number, watermark: number | undefined, received: number | undefined): void {
    if (watermark !== undefined && watermark > this.ackedWatermark) {
      this.ackedWatermark = watermark;
      this.drains.wake();
    }
    const arrived = Math.max(seq, received ?? seq);
    if (arrived > this.received) {
      this.received = arrived;
      if (arrived > this.stats_.receivedSeq) this.stats_.receivedSeq = arrived;
      // What the receiver has (a restarted sender learns it from the first ack) is not sent again.
      if (this.nextSeq <= arrived) this.nextSeq = arrived + 1;
      this.lastProgress = this.clock.now();
      this.inflight = this.inflight.filter((s) => s > arrived);
      this.kick();
    }
    if (seq <= this.acked) return;
    this.acked = seq;
    this.stats_.ackedSeq = seq;
    this.lastProgress = this.clock.now();
    this.marks.dropUpTo(seq);
    this.drains.wake();
    // Positions of what is acked are saved, in order, before the log forgets those records;
    // only the saves chain (the log trims at once; its promise waits for the paced cursor).
    this.positionsSaved = Promise.all([this.positionsSaved.catch(() => {}), this.opts.positions?.persistUpTo(seq)]);
    this.trimmed = this.positionsSaved.then(() => this.log.ack(seq)).catch(() => { /* the log reports faults on its own status stream */ });
    this.kick();
  }

  private rewind(from: number, onlyBack: boolean): void {
    const target = Math.max(from, this.acked + 1);
    if (onlyBack && target >= this.nextSeq) return;
    this.nextSeq = target;
    this.received = Math.min(this.received, target - 1);
    this.inflight = [];
    this.lastProgress = this.clock.now();
  }

  /** Ack timeout and heartbeats, on one timer. */
  private schedule(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      const now = this.clock.now();
      if (this.inflight.length > 0 && now - this.lastProgress > this.ackTimeoutMs) {
        this.rewind(this.acked + 1, false);
        this.kick();
      } else if (this.inflight.length === 0 && this.client.connected && now - this.lastSent >= this.heartbeatMs && this.nextSeq > this.log.durableSeq) {
        // A heartbeat: keeps this producer live at the receiver and repeats an unconfirmed watermark.
        this.publishWatermark(this.marks.at(this.nextSeq - 1));
      }
      this.schedule();
    }, Math.min(this.heartbeatMs, this.ackTimeoutMs) / 2, true);
  }

  /** Resolves once every event pushed so far is durable in the outbox. */
  async flushed(): Promise<void> {
    if (this.flushScheduled) this.flushPending();
    await this.appended;
  }

  /** Resolves once the receiver has acked every event pushed so far, and holds their watermark. */
  async drained(): Promise<void> {
    await this.flushed();
    const seq = await this.appended;
    if (!this.closed) await this.drains.until(seq, this.marks.at(seq));
    await this.trimmed;
  }

  stats(): ChannelSenderStats { return { ...this.stats_ }; }

  async close(): Promise<void> {
    // Events pushed in this tick still go to the outbox: the append starts before `closed` is set.
    if (this.flushScheduled) this.flushPending();
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.rateTimer !== undefined) this.clock.clearTimeout(this.rateTimer);
    this.client.removeListener('message', this.onMessage);
    this.client.removeListener('connect', this.onConnect);
    this.stopNoDelay();
    this.drains.releaseAll();
  }
}
