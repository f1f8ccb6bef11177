/**
 * Turns one reading into payload bytes. JSON and CBOR carry `{ id, seq, ts, ...fields }`;
 * SenML carries one record per field under base name `<id>:` and base time `ts`, plus `seq`.
 */
import { encodePayload } from '../shared/wire/index.ts';
import type { PayloadFormat } from '../shared/wire/index.ts';
import { encodeSenml } from '../shared/wire/index.ts';
import type { SenmlRecord } from '../shared/wire/index.ts';
import type { Reading } from './models/index.ts';

/** Encodes a reading in the given format; throws only on a programming error. */
export function encodeReading(
  format: PayloadFormat, id: string, seq: number, ts: number, reading: Reading,
  units: Readonly<Record<string, string>>,
): Uint8Array {
  let value: unknown;
  if (format === 'senml') {
    const records: SenmlRecord[] = [{ name: `${id}:seq`, time: ts, value: seq, kind: 'v' }];
    for (const [field, v] of Object.entries(reading)) {
      const kind = typeof v === 'number' ? 'v' : typeof v === 'boolean' ? 'vb' : 'vs';
      const unit = units[field];
      records.push(unit === undefined ? { name: `${id}:${field}`, time: ts, value: v, kind } : { name: `${id}:${field}`, time: ts, value: v, kind, unit });
    }
    value = encodeSenml(records, { name: `${id}:` });
  } else {
    value = { id, seq, ts, ...reading };
  }
  const r = encodePayload(value, format);
  if (!r.ok) throw new Error(`firmware-sim: cannot encode a reading of ${id}: ${r.reason}`);
  return r.value;
}

/** Makes any sensor id safe as a topic level and a SenML name (RFC 8428 section 4.5.1). */
export function safeId(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9\-._]/g, '_');
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `d${cleaned}`;
}
