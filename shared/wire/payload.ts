/**
 * Device payloads: the bytes a device publishes, as JSON, CBOR (RFC 8949, via cbor-x) or
 * SenML JSON (RFC 8428). Neither function throws: bad input comes back as `{ ok: false, reason }`
 * so a source can count it and send it to the dead-letter stream. No `node:` module here.
 */
import { Decoder, Encoder } from 'cbor-x';
import { resolveSenml } from './senml.ts';
import type { SenmlRecord } from './senml.ts';

/** The payload formats a device may speak. */
export type PayloadFormat = 'json' | 'cbor' | 'senml';

/** Every format name, for option parsing and help text. */
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = Object.freeze(['json', 'cbor', 'senml']);

/** The outcome of encoding or decoding one payload. */
export type PayloadResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

/** Limits applied while decoding. */
export interface DecodeOptions {
  /** Milliseconds since the epoch; SenML times below 2^28 s are relative to it. Default 0. */
  readonly now?: number;
  /** Larger payloads are rejected before parsing. Default 1 MiB. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 1 << 20;

// Plain CBOR: records extension off (other CBOR readers would not understand it), minimal map
// headers, maps as objects so JSON and CBOR devices decode to the same shapes.
const cborEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a value as a device payload. For `'senml'` the value must be a SenML pack (an array
 * of records, e.g. from `encodeSenml`); it is written as JSON.
 *
 * @example
 * const r = encodePayload({ w: 12.5, kwh: 3.2 }, 'cbor');
 * if (r.ok) client.publish('plug/1', Buffer.from(r.value));
 */
export function encodePayload(value: unknown, format: PayloadFormat): PayloadResult<Uint8Array> {
  try {
    if (format === 'cbor') return { ok: true, value: cborEncoder.encode(value) };
    if (format === 'senml' && !Array.isArray(value)) {
      return { ok: false, reason: 'a SenML payload must be an array of records (see encodeSenml)' };
    }
    if (format !== 'json' && format !== 'senml') {
      return { ok: false, reason: `unknown payload format "${String(format)}"; use json, cbor or senml` };
    }
    const text = JSON.stringify(value);
    if (text === undefined) return { ok: false, reason: `a ${typeof value} cannot be written as JSON` };
    return { ok: true, value: utf8Encoder.encode(text) };
  } catch (err) {
    return { ok: false, reason: `cannot encode as ${format}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Decodes a device payload. JSON must be valid UTF-8; CBOR must be one complete item; SenML is
 * validated and resolved into absolute records (`SenmlRecord[]`, times in ms).
 *
 * @example
 * const r = decodePayload(message, 'senml', { now: clock.now() });
 * if (!r.ok) deadLetter(message, r.reason);
 */
export function decodePayload(bytes: Uint8Array, format: 'senml', opts?: DecodeOptions): PayloadResult<SenmlRecord[]>;
export function decodePayload(bytes: Uint8Array, format: PayloadFormat, opts?: DecodeOptions): PayloadResult<unknown>;
export function decodePayload(bytes: Uint8Array, format: PayloadFormat, opts: DecodeOptions = {}): PayloadResult<unknown> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'payload is not bytes' };
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > max) return { ok: false, reason: `payload of ${bytes.length} bytes is over the ${max}-byte limit` };
  if (bytes.length === 0) return { ok: false, reason: 'payload is empty' };
  if (format === 'cbor') return decodeCbor(bytes);
  if (format !== 'json' && format !== 'senml') {
    return { ok: false, reason: `unknown payload format "${String(format)}"; use json, cbor or senml` };
  }
  const parsed = decodeJson(bytes);
  if (!parsed.ok || format === 'json') return parsed;
  const resolved = resolveSenml(parsed.value, opts.now ?? 0);
  return resolved.ok ? { ok: true, value: resolved.records } : { ok: false, reason: `bad SenML: ${resolved.reason}` };
}

function decodeJson(bytes: Uint8Array): PayloadResult<unknown> {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `bad JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function decodeCbor(bytes: Uint8Array): PayloadResult<unknown> {
  try {
    return { ok: true, value: cborDecoder.decode(bytes) as unknown };
  } catch (err) {
    return { ok: false, reason: `bad CBOR: ${err instanceof Error ? err.message : String(err)}` };
  }
}
