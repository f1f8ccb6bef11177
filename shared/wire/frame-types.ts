/** The frames of a channel, as data (see frame.ts for their wire layout). No `node:` imports. */

/** One event in a data frame. Decoded events always have the `key` property (maybe undefined). */
export interface FrameEvent {
  readonly ts: number;
  readonly key?: unknown;
  readonly value: unknown;
}

/** A batch of events from one producer, seqs `firstSeq..lastSeq` in order. */
export interface DataFrame {
  readonly type: 'data';
  readonly producer: string;
  readonly epoch: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The producer's watermark in ms; may be -Infinity (nothing known) or +Infinity (input ended). */
  readonly watermark: number;
  readonly events: readonly FrameEvent[];
  /**
   * Seqs just before `firstSeq` that the producer dropped by a declared policy (an outbox bound):
   * `firstSeq - dropped .. firstSeq - 1` will never come, so a receiver must not wait for them.
   */
  readonly dropped?: number;
  /**
   * The producer's durable ack: everything up to `baseSeq` is safe at a receiver. A receiver that
   * knows nothing of this producer (new, or restarted) starts after it and asks for any gap.
   */
  readonly baseSeq?: number;
}

/**
 * A data frame whose events are encoded already: `items`, concatenated, are the CBOR items of
 * seqs `firstSeq..lastSeq` in order, each an array `[ts, key, value, ...]` (see frame.ts). Each
 * entry holds one item unless `itemCount` gives the number of items they hold in all.
 */
export interface EncodedDataFrame extends Omit<DataFrame, 'events'> {
  readonly items: readonly Uint8Array[];
  readonly itemCount?: number;
}

/**
 * Receiver -> sender: every seq up to and including `ackedSeq` is durable (-1: none yet), so the
 * sender may delete it; everything up to `receivedSeq` (>= ackedSeq) has arrived, so the sender
 * may send more while the results of what arrived are still being made durable.
 */
export interface AckFrame {
  readonly type: 'ack';
  readonly producer: string;
  readonly epoch: number;
  readonly ackedSeq: number;
  readonly receivedSeq?: number;
  /** The producer's watermark as the receiver holds it, so a sender knows its end (+∞) arrived. */
  readonly watermark?: number;
}

/** Receiver -> sender: please send seqs `fromSeq..toSeq` (inclusive) again. */
export interface ResendFrame {
  readonly type: 'resend';
  readonly producer: string;
  readonly epoch: number;
  readonly fromSeq: number;
  readonly toSeq: number;
}

export type Frame = DataFrame | AckFrame | ResendFrame;
