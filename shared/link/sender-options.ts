/** What a channel sender takes, and the counters it reports. */
import type { MqttClient } from 'mqtt';
import type { Clock } from '../clock.ts';
import type { OutboxLog } from '../store/index.ts';
import type { SourcePositions } from './positions.ts';

export interface ChannelSenderOptions {
  /** A connected (or connecting) mqtt.js client; the sender never ends it. */
  readonly client: MqttClient;
  readonly app: string;
  readonly channel: string;
  readonly partition?: number;
  /** This producer's id, unique among the channel's senders (e.g. the gateway id). */
  readonly producer: string;
  /**
   * The incarnation of this producer's seqs (default the outbox's `epoch`: a log made anew
   * numbers from 1 again under a later one). A receiver fences off lower epochs, and starts a
   * higher one over at the producer's base.
   */
  readonly epoch?: number;
  /** The outbox: every event is stored here before it is sent, and trimmed on the receiver's ack. */
  readonly log: OutboxLog;
  readonly maxEventsPerFrame?: number;
  readonly maxBytesPerFrame?: number;
  /** Frames published but not yet acked by the receiver. */
  readonly maxInflightFrames?: number;
  /** With no ack progress for this long, resend from the last acked seq. */
  readonly ackTimeoutMs?: number;
  /**
   * Cap on events sent per second (a token bucket holding one frame's worth), so that draining
   * a backlog after an outage leaves room on the uplink for live data and other channels.
   */
  readonly maxEventsPerSecond?: number;
  /** Input positions carried in the outbox (see positions.ts), for resuming after a crash. */
  readonly positions?: SourcePositions;
  /**
   * The first this-many events pushed are in the outbox already: the tail of a batch a crash
   * tore, read again from its input (`SourcePositions.tornRecords`). They are dropped, counted.
   */
  readonly skipReplayed?: number;
  /** A frame with no events carries the watermark when nothing else was sent for this long. */
  readonly heartbeatMs?: number;
  readonly clock?: Clock;
  /** The outbox refused events (reject policy, full disk): hold the sources until it is writable. */
  readonly onPressure?: (held: boolean) => void;
}

export interface ChannelSenderStats {
  appended: number;
  framesSent: number;
  eventsSent: number;
  /** Events sent again (after a reconnect, a resend request or an ack timeout). */
  eventsResent: number;
  ackedSeq: number;
  /** Highest seq the receiver has confirmed receiving (its results may not be durable yet). */
  receivedSeq: number;
  resendRequests: number;
  appendRetries: number;
  /** Events the outbox dropped by its bound before they were ever sent: lost by declared policy. */
  droppedUnsent: number;
  /** Events pushed after `close()`, or still waiting for a full outbox when it came: not stored. */
  droppedClosed: number;
  /**
   * Events too large for one outbox record or one frame (`maxBytesPerFrame`, the outbox's
   * `maxRecordBytes`): never stored, counted; `lastTooLarge` says the newest one's size.
   */
  droppedTooLarge: number;
  lastTooLarge?: string;
  /** Events pushed again after a crash that the outbox already held (a torn batch read again), not stored twice. */
  replaySkipped: number;
  /** Faults in the send loop (it is retried); the newest one's message. */
  sendErrors: number;
  lastSendError?: string;
}
