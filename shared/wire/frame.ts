/**
 * Channel frames: what travels on a channel's MQTT topics, as one CBOR item per message.
 *
 * Takes: a `Frame` (data, ack or resend). Emits: bytes, and back, never throwing on input.
 *
 * Wire layout (version 1), a CBOR map with text keys, so a frame dumped from a topic reads
 * itself:
 *   data   { v: 1, type: 'data', producer, epoch, firstSeq, lastSeq, watermark, events, baseSeq? }
 *   ack    { v: 1, type: 'ack', producer, epoch, ackedSeq, receivedSeq?, watermark? }
 *   resend { v: 1, type: 'resend', producer, epoch, fromSeq, toSeq }
 * `events` is one flat array `[ts0, key0, value0, ts1, key1, value1, ...]`, CBOR `undefined`
 * standing for "no key": one array instead of one map per event keeps frames small and fast.
 * `watermark` is a float, so -Infinity and +Infinity travel as themselves.
 * A data frame may carry no events (a watermark heartbeat): then `lastSeq === firstSeq - 1`.
 * This module imports no `node:` module; it is bundled for browsers too.
 */
import { Encoder } from 'cbor-x';
import { SluiceError } from '../errors.ts';

/** The frame format version this build writes and reads. */
export const FRAME_VERSION = 1;

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

/** What a user passes to bound decoding; every field optional. */
export interface FrameLimitsOptions {
  /** Largest encoded frame accepted, in bytes. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Most events one data frame may carry. Default 10,000. */
  readonly maxEvents?: number;
  /** Longest producer id, in UTF-16 code units. Default 256. */
  readonly maxProducerLength?: number;
}

/** Parsed, frozen limits; build with `parseFrameLimits`. */
export interface FrameLimits {
  readonly maxBytes: number;
  readonly maxEvents: number;
  readonly maxProducerLength: number;
}

export type DecodeFrameResult =
  | { readonly ok: true; readonly frame: Frame }
  | { readonly ok: false; readonly reason: string };

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxEvents: 10_000,
  maxProducerLength: 256,
});

// One encoder for the process: plain CBOR maps (no record extension, so any CBOR decoder reads
// our frames), and copied byte strings so a decoded value never pins the whole MQTT packet.
const codec = new Encoder({ useRecords: false, copyBuffers: true });

/**
 * Parses limit options into a frozen `FrameLimits`, filling defaults.
 *
 * @example
 * const limits = parseFrameLimits({ maxBytes: 256 * 1024 });
 * const result = decodeFrame(bytes, limits);
 */
export function parseFrameLimits(options: FrameLimitsOptions = {}): FrameLimits {
  const pick = (name: keyof FrameLimitsOptions): number => {
    const value = options[name];
    if (value === undefined) return DEFAULT_FRAME_LIMITS[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SluiceError('WIRE_BAD_LIMIT', `frame limit ${name} must be a positive integer, got ${String(value)}`, {
        where: `frame limits option "${name}"`,
        fix: `pass a whole number of at least 1, or leave it out for ${DEFAULT_FRAME_LIMITS[name]}`,
      });
    }
    return value;
  };
  return Object.freeze({
    maxBytes: pick('maxBytes'),
    maxEvents: pick('maxEvents'),
    maxProducerLength: pick('maxProducerLength'),
  });
}

/**
 * Encodes a frame to CBOR bytes. Throws `SluiceError` (code `WIRE_INVALID_FRAME`) when the
 * frame is not one `decodeFrame` would accept, and `WIRE_FRAME_TOO_LARGE` when `limits` is
 * given and the bytes exceed `limits.maxBytes` (split the batch and try again).
 *
 * @example
 * const bytes = encodeFrame({ type: 'ack', producer: 'gw-7', epoch: 2, ackedSeq: 41 });
 */
export function encodeFrame(frame: Frame, limits?: FrameLimits): Uint8Array {
  const problem = checkFrame(frame, limits ?? DEFAULT_FRAME_LIMITS, true);
  if (problem !== undefined) {
    throw new SluiceError('WIRE_INVALID_FRAME', `cannot encode ${String(frame.type)} frame: ${problem}`, {
      where: `frame from producer ${JSON.stringify(frame.producer)}`,
      fix: 'build the frame from whole, finite numbers and a non-empty producer id',
    });
  }
  const bytes = codec.encode(toWire(frame));
  if (limits !== undefined && bytes.length > limits.maxBytes) {
    throw new SluiceError('WIRE_FRAME_TOO_LARGE', `frame is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`, {
      where: `frame from producer ${JSON.stringify(frame.producer)}`,
      fix: 'put fewer events in each frame, or raise maxBytes on both ends',
    });
  }
  return bytes;
}

/**
 * Decodes one frame. Never throws: malformed CBOR, a foreign version, missing or mistyped
 * fields, oversize input and inconsistent seq ranges all come back as `{ ok: false, reason }`.
 *
 * @example
 * const r = decodeFrame(message, limits);
 * if (!r.ok) deadLetter(message, r.reason); else if (r.frame.type === 'data') take(r.frame);
 */
export function decodeFrame(bytes: Uint8Array, limits: FrameLimits = DEFAULT_FRAME_LIMITS): DecodeFrameResult {
  if (bytes.length > limits.maxBytes) {
    return fail(`frame is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
  }
  if (bytes.length === 0) return fail('frame is empty');
  let raw: unknown;
  try {
    raw = codec.decode(bytes);
  } catch (err) {
    // Deep nesting ends in a RangeError from the engine; it is bad input like any other.
    return fail(`not valid CBOR: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return fromWire(raw, limits);
  } catch (err) {
    // Getters or odd tag objects should not reach here, but hostile input never crashes a node.
    return fail(`unreadable frame: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function fail(reason: string): DecodeFrameResult {
  return { ok: false, reason };
}

function toWire(frame: Frame): Record<string, unknown> {
  switch (frame.type) {
    case 'data': {
      const events = frame.events;
      const flat = new Array<unknown>(events.length * 3);
      for (let i = 0, j = 0; i < events.length; i++, j += 3) {
        const e = events[i]!;
        flat[j] = e.ts;
        flat[j + 1] = e.key;
        flat[j + 2] = e.value;
      }
      return {
        v: FRAME_VERSION, type: 'data', producer: frame.producer, epoch: frame.epoch,
        firstSeq: frame.firstSeq, lastSeq: frame.lastSeq, watermark: frame.watermark, events: flat,
        ...(frame.dropped ? { dropped: frame.dropped } : {}),
        ...(frame.baseSeq !== undefined ? { baseSeq: frame.baseSeq } : {}),
      };
    }
    case 'ack':
      return {
        v: FRAME_VERSION, type: 'ack', producer: frame.producer, epoch: frame.epoch, ackedSeq: frame.ackedSeq,
        ...(frame.receivedSeq !== undefined ? { receivedSeq: frame.receivedSeq } : {}),
        ...(frame.watermark !== undefined ? { watermark: frame.watermark } : {}),
      };
    case 'resend':
      return {
        v: FRAME_VERSION, type: 'resend', producer: frame.producer, epoch: frame.epoch,
        fromSeq: frame.fromSeq, toSeq: frame.toSeq,
      };
  }
}

function fromWire(raw: unknown, limits: FrameLimits): DecodeFrameResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Map) {
    return fail(`frame must be a CBOR map, got ${describe(raw)}`);
  }
  const m = raw as Record<string, unknown>;
  if (m['v'] !== FRAME_VERSION) {
    return fail(`unsupported frame version ${describe(m['v'])} (this build reads version ${FRAME_VERSION})`);
  }
  const type = m['type'];
  let frame: Frame;
  if (type === 'data') {
    const flat = m['events'];
    if (!Array.isArray(flat)) return fail(`field "events" must be an array, got ${describe(flat)}`);
    if (flat.length % 3 !== 0) return fail(`field "events" has ${flat.length} items, not a multiple of 3 (ts, key, value)`);
    const count = flat.length / 3;
    if (count > limits.maxEvents) return fail(`frame has ${count} events, over the limit of ${limits.maxEvents}`);
    const events = new Array<FrameEvent>(count);
    for (let i = 0, j = 0; i < count; i++, j += 3) {
      const ts = flat[j];
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        return fail(`event ${i} has ts ${describe(ts)}; it must be a finite number`);
      }
      events[i] = { ts, key: flat[j + 1], value: flat[j + 2] };
    }
    frame = {
      type: 'data', producer: m['producer'] as string, epoch: m['epoch'] as number,
      firstSeq: m['firstSeq'] as number, lastSeq: m['lastSeq'] as number,
      watermark: m['watermark'] as number, events,
      ...(m['dropped'] !== undefined ? { dropped: m['dropped'] as number } : {}),
      ...(m['baseSeq'] !== undefined ? { baseSeq: m['baseSeq'] as number } : {}),
    };
  } else if (type === 'ack') {
    frame = {
      type: 'ack', producer: m['producer'] as string, epoch: m['epoch'] as number, ackedSeq: m['ackedSeq'] as number,
      ...(m['receivedSeq'] !== undefined ? { receivedSeq: m['receivedSeq'] as number } : {}),
      ...(m['watermark'] !== undefined ? { watermark: m['watermark'] as number } : {}),
    };
  } else if (type === 'resend') {
    frame = {
      type: 'resend', producer: m['producer'] as string, epoch: m['epoch'] as number,
      fromSeq: m['fromSeq'] as number, toSeq: m['toSeq'] as number,
    };
  } else {
    return fail(`unknown frame type ${describe(type)} (expected "data", "ack" or "resend")`);
  }
  // Events were checked above while copying; check the header the same way encode does.
  const problem = checkFrame(frame, limits, false);
  return problem === undefined ? { ok: true, frame } : fail(problem);
}

/** Returns why `frame` is not a valid frame, or undefined. `checkEvents` also checks each ts. */
function checkFrame(frame: Frame, limits: FrameLimits, checkEvents: boolean): string | undefined {
  const p = frame.producer as unknown;
  if (typeof p !== 'string' || p.length === 0) return `field "producer" must be a non-empty string, got ${describe(p)}`;
  if (p.length > limits.maxProducerLength) {
    return `field "producer" is ${p.length} characters, over the limit of ${limits.maxProducerLength}`;
  }
  const epochProblem = checkInt('epoch', frame.epoch, 0);
  if (epochProblem !== undefined) return epochProblem;
  switch (frame.type) {
    case 'data': {
      const events = frame.events as unknown;
      if (!Array.isArray(events)) return `field "events" must be an array, got ${describe(events)}`;
      if (events.length > limits.maxEvents) return `frame has ${events.length} events, over the limit of ${limits.maxEvents}`;
      const w = frame.watermark as unknown;
      if (typeof w !== 'number' || Number.isNaN(w)) return `field "watermark" must be a number (±Infinity allowed), got ${describe(w)}`;
      const rangeProblem = checkInt('firstSeq', frame.firstSeq, 0) ?? checkInt('lastSeq', frame.lastSeq, -1);
      if (rangeProblem !== undefined) return rangeProblem;
      if (frame.lastSeq - frame.firstSeq + 1 !== events.length) {
        return `seq range ${frame.firstSeq}..${frame.lastSeq} does not match the ${events.length} events carried`;
      }
      if (frame.dropped !== undefined) {
        const d = checkInt('dropped', frame.dropped, 0);
        if (d !== undefined) return d;
        if (frame.dropped > frame.firstSeq) return `field "dropped" (${frame.dropped}) reaches below seq 0`;
      }
      if (frame.baseSeq !== undefined) {
        const b = checkInt('baseSeq', frame.baseSeq, 0);
        if (b !== undefined) return b;
        if (frame.baseSeq >= frame.firstSeq - (frame.dropped ?? 0) && frame.lastSeq >= frame.firstSeq) return `field "baseSeq" (${frame.baseSeq}) is not below the frame's first seq ${frame.firstSeq}`;
      }
      if (checkEvents) {
        for (let i = 0; i < events.length; i++) {
          const e = events[i] as FrameEvent | undefined;
          if (typeof e !== 'object' || e === null) return `event ${i} must be an object, got ${describe(e)}`;
          if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) return `event ${i} has ts ${describe(e.ts)}; it must be a finite number`;
        }
      }
      return undefined;
    }
    case 'ack':
      if (frame.watermark !== undefined && (typeof frame.watermark !== 'number' || Number.isNaN(frame.watermark))) {
        return `field "watermark" must be a number (±Infinity allowed), got ${describe(frame.watermark)}`;
      }
      if (frame.receivedSeq !== undefined) {
        const r = checkInt('receivedSeq', frame.receivedSeq, -1);
        if (r !== undefined) return r;
        if (frame.receivedSeq < frame.ackedSeq) return `field "receivedSeq" (${frame.receivedSeq}) is below "ackedSeq" (${frame.ackedSeq})`;
      }
      return checkInt('ackedSeq', frame.ackedSeq, -1);
    case 'resend': {
      const problem = checkInt('fromSeq', frame.fromSeq, 0) ?? checkInt('toSeq', frame.toSeq, 0);
      if (problem !== undefined) return problem;
      if (frame.toSeq < frame.fromSeq) return `resend range ${frame.fromSeq}..${frame.toSeq} is empty (toSeq < fromSeq)`;
      return undefined;
    }
    default:
      return `unknown frame type ${describe((frame as { type: unknown }).type)}`;
  }
}

function checkInt(name: string, value: unknown, min: number): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    return `field "${name}" must be a whole number >= ${min}, got ${describe(value)}`;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number': return String(value);
    case 'string': return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
    case 'undefined': return 'nothing';
    case 'bigint': return `${value}n`;
    case 'object': {
      if (value instanceof Map) return 'a map with non-text keys';
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      return `an object (${typeof ctor?.name === 'string' ? ctor.name : 'no prototype'})`;
    }
    default: return `a ${typeof value}`;
  }
}
