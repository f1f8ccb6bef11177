/**
 * A data frame's events as CBOR items, one per event, `[ts, key, value]`, back to back (an
 * RFC 8742 CBOR sequence): how a sender's outbox stores them and a frame carries them.
 *
 * Objects are written with cbor-x's record extension, in its sequential mode: the first object
 * of a shape carries its keys (tag 57343, a record definition), the others of that shape only
 * their values (a tag from 57344 naming the definition). Telemetry repeats one shape, so the
 * keys go once per call instead of once per event: in the benchmarks the items are about a
 * fifth smaller and a receiver decodes them about twice as fast as plain maps, its largest cost
 * (BENCHMARKS.md, seventh session). Objects of many different shapes cost a few bytes more
 * each instead. Definitions start afresh with each `encodeItems` call, so the items of one
 * call read on their own: a frame may carry the items of several calls back to back, never
 * part of one. Plain maps (what earlier builds stored) read the same way. Any cbor-x decoder
 * reads both; another CBOR decoder sees the records as tagged arrays.
 * No `node:` module here; it is bundled for browsers too.
 */
import { Decoder, Encoder, type Options } from 'cbor-x';

/** One event as items hold it. */
export type ItemTriple = readonly [ts: number, key: unknown, value: unknown];

// A JS Map still goes as tag 259 (a map with keys of any type), as it did before records, so it
// comes back a Map and not an object; the option is missing from cbor-x's typings.
const encoderOptions: Options & { useTag259ForMaps: boolean } = { sequential: true, useTag259ForMaps: true };
const encoder = new Encoder(encoderOptions);
// Maps decode as objects (as JSON and device payloads do), byte strings as copies so a decoded
// value never pins the whole MQTT packet. A Decoder, not an Encoder: an Encoder keeps the
// shapes it has read from one call to the next (items.test.ts).
const decoder = new Decoder({ mapsAsObjects: true, copyBuffers: true });
/** cbor-x keeps the shapes it knows in `structures` (the option of that name), not in its typings. */
const shapes = (codec: Encoder): { structures: unknown[] } => codec as unknown as { structures: unknown[] };

/**
 * Encodes `events` as items, with one encoder call for them all (a CBOR array is its head
 * followed by its items, so the items are the array's bytes after the head).
 *
 * @example
 * const items = encodeItems([[Date.now(), 'plug-1', { w: 812.4 }]]);
 */
export function encodeItems(events: readonly ItemTriple[]): Uint8Array {
  // cbor-x keeps the shapes it has defined across calls unless they are reset; a fresh list
  // makes this call define every shape it uses.
  shapes(encoder).structures = [];
  const array = encoder.encode(events) as Uint8Array;
  return array.subarray(cborArrayHeadBytes(array));
}

/**
 * Decodes items (the output of one or more `encodeItems` calls back to back), calling `each`
 * with every item in order until it returns false. Throws cbor-x's error on bytes that are not
 * whole CBOR items. Shapes defined by an earlier call are not kept: a reference to a shape the
 * items never defined decodes as a CBOR tag, never as another frame's keys.
 *
 * @example
 * decodeItems(items, (item) => { events.push(item); return true; });
 */
export function decodeItems(items: Uint8Array, each: (item: unknown) => boolean): void {
  decoder.decodeMultiple(items, each);
}

/**
 * Bytes of the head of the CBOR array at the start of `bytes` (RFC 8949 §3: 1 + 0/1/2/4/8):
 * what to cut off an encoded array to keep its items back to back.
 */
export function cborArrayHeadBytes(bytes: Uint8Array): number {
  const head = bytes[0]!;
  if (head >> 5 !== 4) throw new Error(`unexpected CBOR head 0x${head.toString(16)} for an array from the encoder`);
  const info = head & 0x1f;
  return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : 9;
}
