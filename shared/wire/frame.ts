/**
 * Channel frames: what travels on a channel's MQTT topics, as one CBOR item per message.
 *
 * Takes: a `Frame` (data, ack or resend), or a data frame whose events are CBOR items already
 * (`EncodedDataFrame`, as a sender's outbox stores them). Emits: bytes, and back, never
 * throwing on input.
 *
 * Wire layout (version 2), a CBOR map with text keys, so a frame dumped from a topic reads
 * itself:
 *   data   { v: 2, type: 'data', producer, epoch, firstSeq, lastSeq, watermark, items, dropped?, baseSeq? }
 *   ack    { v: 2, type: 'ack', producer, epoch, ackedSeq, receivedSeq?, watermark? }
 *   resend { v: 2, type: 'resend', producer, epoch, fromSeq, toSeq }
 * `items` is a byte string holding one CBOR item per event, back to back (an RFC 8742 CBOR
 * sequence): each an array `[ts, key, value, ...]`, CBOR `undefined` standing for "no key";
 * entries after the third are the producer's own (e.g. a source position) and are ignored.
 * Objects in them are cbor-x records defined within the items (items.ts).
 * A sender ships the items its outbox stored as they are, with no decode and re-encode
 * (issue 3); version 1 carried a flat `events` array instead and is not read any more.
 * `watermark` is a float, so -Infinity and +Infinity travel as themselves.
 * A data frame may carry no events (a watermark heartbeat): then `lastSeq === firstSeq - 1`.
 * This module imports no `node:` module; it is bundled for browsers too.
 */
import { Encoder } from 'cbor-x';
import { SluiceError } from '../errors.ts';
import { DEFAULT_FRAME_LIMITS, type FrameLimits } from './frame-limits.ts';
import type { AckFrame, DataFrame, EncodedDataFrame, Frame, FrameEvent, ResendFrame } from './frame-types.ts';
import { decodeItems, encodeItems, type ItemTriple } from './items.ts';

export { DEFAULT_FRAME_LIMITS, parseFrameLimits, type FrameLimits, type FrameLimitsOptions } from './frame-limits.ts';

/** The frame format version this build writes and reads. */
export const FRAME_VERSION = 2;

export type { AckFrame, DataFrame, EncodedDataFrame, Frame, FrameEvent, ResendFrame } from './frame-types.ts';

export type DecodeFrameResult =
  | { readonly ok: true; readonly frame: Frame }
  | { readonly ok: false; readonly reason: string };

// One encoder for the process: plain CBOR maps (no record extension, so any CBOR decoder reads
// our frames), and copied byte strings so a decoded value never pins the whole MQTT packet.
const codec = new Encoder({ useRecords: false, copyBuffers: true });

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
  if (problem !== undefined) throw invalidFrame(frame, problem);
  if (frame.type === 'data') {
    const { events, ...header } = frame;
    const triples = new Array<ItemTriple>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      triples[i] = [e.ts, e.key, e.value];
    }
    // One encoder call for all (~2x faster than one per event).
    return sized(frame, writeDataFrame(header, [encodeItems(triples)]), limits);
  }
  return sized(frame, codec.encode(toWire(frame)), limits);
}

/**
 * Encodes a data frame whose events are CBOR items already (one per seq, possibly with
 * entries of the producer's own after the third), copying each byte once and decoding none:
 * how a sender ships what its outbox stored. Each entry of `items` is the whole output of one
 * `encodeItems` call (its records refer back to shapes it defined earlier, so it cannot be
 * cut), or plain CBOR items; `itemCount` says how many items they hold in all when that is not
 * one per entry. The header is checked as `encodeFrame` checks it, and the item count
 * against the seq range; the items themselves are checked by the receiver's `decodeFrame`.
 * Throws as `encodeFrame` does. `alloc` gives the output buffer (exactly the bytes asked for),
 * for a sender that reuses them.
 *
 * @example
 * const bytes = encodeDataFrame({ type: 'data', producer: 'gw-7', epoch: 0, firstSeq: 5,
 *   lastSeq: 5, watermark: 1000, items: [encodeItems([[1000, undefined, { t: 21.5 }]])] });
 */
export function encodeDataFrame(frame: EncodedDataFrame, limits?: FrameLimits, alloc?: (bytes: number) => Uint8Array): Uint8Array {
  const items = frame.items as unknown;
  if (!Array.isArray(items)) throw invalidFrame(frame, `field "items" must be an array of CBOR items, got ${describe(items)}`);
  const problem = checkDataHeader(frame, frame.itemCount ?? items.length, limits ?? DEFAULT_FRAME_LIMITS);
  if (problem !== undefined) throw invalidFrame(frame, problem);
  const { items: _items, itemCount: _count, ...header } = frame;
  return sized(frame, writeDataFrame(header, frame.items, alloc), limits);
}

function invalidFrame(frame: { readonly type: unknown; readonly producer: unknown }, problem: string): SluiceError {
  return new SluiceError('WIRE_INVALID_FRAME', `cannot encode ${String(frame.type)} frame: ${problem}`, {
    where: `frame from producer ${JSON.stringify(frame.producer)}`,
    fix: 'build the frame from whole, finite numbers, a non-empty producer id and one CBOR item per seq',
  });
}

function sized(frame: { readonly producer: unknown }, bytes: Uint8Array, limits: FrameLimits | undefined): Uint8Array {
  if (limits !== undefined && bytes.length > limits.maxBytes) {
    throw new SluiceError('WIRE_FRAME_TOO_LARGE', `frame is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`, {
      where: `frame from producer ${JSON.stringify(frame.producer)}`,
      fix: 'put fewer events in each frame, or raise maxBytes on both ends',
    });
  }
  return bytes;
}

const ITEMS_KEY = codec.encode('items');
const newBytes = (bytes: number): Uint8Array => new Uint8Array(bytes);

/**
 * Writes the header map with one more entry, `items`: a byte string of the items back to
 * back, copied straight into the output (one copy, where encoding a concatenation makes two).
 */
function writeDataFrame(header: Omit<DataFrame, 'events'>, items: readonly Uint8Array[], alloc: (bytes: number) => Uint8Array = newBytes): Uint8Array {
  const head = codec.encode({
    v: FRAME_VERSION, type: 'data', producer: header.producer, epoch: header.epoch,
    firstSeq: header.firstSeq, lastSeq: header.lastSeq, watermark: header.watermark,
    ...(header.dropped ? { dropped: header.dropped } : {}),
    ...(header.baseSeq !== undefined ? { baseSeq: header.baseSeq } : {}),
  });
  let total = 0;
  for (const item of items) total += item.byteLength;
  // cbor-x writes an object's entry count as 0xb9 + u16 (room reserved before counting keys);
  // a one-byte head (0xa0 + count) is handled too, should an encoder write that.
  const small = head[0]! >= 0xa0 && head[0]! < 0xb7;
  if (head[0] !== 0xb9 && !small) throw new Error(`unexpected CBOR map head 0x${head[0]!.toString(16)} from the encoder`);
  const lenBytes = total < 24 ? 1 : total < 256 ? 2 : total < 65536 ? 3 : 5;
  const out = alloc(head.byteLength + ITEMS_KEY.byteLength + lenBytes + total);
  out.set(head, 0);
  if (small) out[0] = head[0]! + 1;
  else {
    const count = ((head[1]! << 8) | head[2]!) + 1;
    out[1] = count >> 8;
    out[2] = count & 0xff;
  }
  let at = head.byteLength;
  out.set(ITEMS_KEY, at);
  at += ITEMS_KEY.byteLength;
  if (lenBytes === 1) out[at++] = 0x40 | total;
  else if (lenBytes === 2) { out[at++] = 0x58; out[at++] = total; }
  else if (lenBytes === 3) { out[at++] = 0x59; out[at++] = total >> 8; out[at++] = total & 0xff; }
  else { out[at++] = 0x5a; out[at++] = total >>> 24; out[at++] = (total >> 16) & 0xff; out[at++] = (total >> 8) & 0xff; out[at++] = total & 0xff; }
  for (const item of items) { out.set(item, at); at += item.byteLength; }
  return out;
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

function toWire(frame: AckFrame | ResendFrame): Record<string, unknown> {
  switch (frame.type) {
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
    const r = readItems(m['items'], limits);
    if (typeof r === 'string') return fail(r);
    const events = r;
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

/** The events in a data frame's `items`, or why they cannot be read. */
function readItems(items: unknown, limits: FrameLimits): FrameEvent[] | string {
  if (!(items instanceof Uint8Array)) return `field "items" must be a byte string, got ${describe(items)}`;
  const events: FrameEvent[] = [];
  if (items.byteLength === 0) return events;
  let problem: string | undefined;
  try {
    decodeItems(items, (item: unknown) => {
      const i = events.length;
      if (i >= limits.maxEvents) {
        problem = `frame has more than ${limits.maxEvents} events, over the limit`;
      } else if (!Array.isArray(item) || item.length < 3) {
        problem = `event ${i} must be an array [ts, key, value], got ${describe(item)}`;
      } else if (typeof item[0] !== 'number' || !Number.isFinite(item[0])) {
        problem = `event ${i} has ts ${describe(item[0])}; it must be a finite number`;
      } else {
        events.push({ ts: item[0], key: item[1], value: item[2] });
        return true;
      }
      return false;
    });
  } catch (err) {
    return `field "items" is not a sequence of whole CBOR items: ${err instanceof Error ? err.message : String(err)}`;
  }
  return problem ?? events;
}

/** Returns why `frame` is not a valid frame, or undefined. `checkEvents` also checks each ts. */
function checkFrame(frame: Frame, limits: FrameLimits, checkEvents: boolean): string | undefined {
  const who = checkProducer(frame, limits);
  if (who !== undefined) return who;
  switch (frame.type) {
    case 'data': {
      const events = frame.events as unknown;
      if (!Array.isArray(events)) return `field "events" must be an array, got ${describe(events)}`;
      const headerProblem = checkDataFields(frame, events.length, limits);
      if (headerProblem !== undefined || !checkEvents) return headerProblem;
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as FrameEvent | undefined;
        if (typeof e !== 'object' || e === null) return `event ${i} must be an object, got ${describe(e)}`;
        if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) return `event ${i} has ts ${describe(e.ts)}; it must be a finite number`;
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

/** Checks a data frame's header fields for a frame carrying `count` events. */
function checkDataHeader(frame: Omit<DataFrame, 'events'>, count: number, limits: FrameLimits): string | undefined {
  return checkProducer(frame, limits) ?? checkDataFields(frame, count, limits);
}

function checkProducer(frame: { readonly producer: unknown; readonly epoch: unknown }, limits: FrameLimits): string | undefined {
  const p = frame.producer as unknown;
  if (typeof p !== 'string' || p.length === 0) return `field "producer" must be a non-empty string, got ${describe(p)}`;
  if (p.length > limits.maxProducerLength) {
    return `field "producer" is ${p.length} characters, over the limit of ${limits.maxProducerLength}`;
  }
  const epochProblem = checkInt('epoch', frame.epoch, 0);
  if (epochProblem !== undefined) return epochProblem;
  return undefined;
}

function checkDataFields(frame: Omit<DataFrame, 'events'>, count: number, limits: FrameLimits): string | undefined {
  if (count > limits.maxEvents) return `frame has ${count} events, over the limit of ${limits.maxEvents}`;
  const w = frame.watermark as unknown;
  if (typeof w !== 'number' || Number.isNaN(w)) return `field "watermark" must be a number (±Infinity allowed), got ${describe(w)}`;
  const rangeProblem = checkInt('firstSeq', frame.firstSeq, 0) ?? checkInt('lastSeq', frame.lastSeq, -1);
  if (rangeProblem !== undefined) return rangeProblem;
  if (frame.lastSeq - frame.firstSeq + 1 !== count) {
    return `seq range ${frame.firstSeq}..${frame.lastSeq} does not match the ${count} events carried`;
  }
  if (frame.dropped !== undefined) {
    const d = checkInt('dropped', frame.dropped, 0);
    if (d !== undefined) return d;
    if (frame.dropped > frame.firstSeq) return `field "dropped" (${frame.dropped}) reaches below seq 0`;
  }
  if (frame.baseSeq !== undefined) {
    const b = checkInt('baseSeq', frame.baseSeq, 0);
    if (b !== undefined) return b;
    if (count > 0 && frame.baseSeq >= frame.firstSeq - (frame.dropped ?? 0)) return `field "baseSeq" (${frame.baseSeq}) is not below the frame's first seq ${frame.firstSeq}`;
  }
  return undefined;
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
