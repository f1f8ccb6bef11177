/**
 * What a channel sender stores in its outbox: one span record per batch of events (see
 * `OutboxLog.appendSpans`), its payload the events' CBOR items back to back, as a data frame
 * carries them (shared/wire/items.ts), so a frame is made of stored bytes without decoding any
 * event. Spans written before items used cbor-x records hold plain CBOR maps, read the same.
 *
 * Payload layout: `items`, or, for the batch that ends a source batch, `0x00 | len u16 LE |
 * CBOR [source, record] | items`: the input position the last event reached (0x00 never
 * starts an item: every item is an array). A one-seq record holding a single item
 * `[ts, key, value, source, record]` is the layout of outboxes written before spans, read still.
 */
import { Encoder } from 'cbor-x';
import type { LogRecord, Span } from '../store/index.ts';
import { encodeItems } from '../wire/index.ts';

const cbor = new Encoder({ useRecords: false });
const POSITION_PREFIX = 0x00;
/** CBOR head of a 5-entry array: a pre-span record that carries a source position. */
const LEGACY_POSITION_ITEM = 0x85;

/** An input position: input of `source` up to its `record` is in the outbox. */
export interface SourcePosition {
  readonly source: string;
  readonly record: number;
}

/** One event as the sender holds it until its batch is encoded. */
export type PendingEvent = [ts: number, key: unknown, value: unknown];

/**
 * Encodes `events` as the items of one span, in one `encodeItems` call (so a span reads on its
 * own, and a frame carries spans whole); `position`, if given, is the batch's last.
 */
export function encodeSpan(events: readonly PendingEvent[], position?: SourcePosition): Uint8Array {
  const items = encodeItems(events);
  if (position === undefined) return items;
  const pos = cbor.encode([position.source, position.record]) as Uint8Array;
  const out = new Uint8Array(3 + pos.byteLength + items.byteLength);
  out[0] = POSITION_PREFIX;
  out[1] = pos.byteLength & 0xff;
  out[2] = pos.byteLength >> 8;
  out.set(pos, 3);
  out.set(items, 3 + pos.byteLength);
  return out;
}

/** The items of a stored record and the position it carries, if any (at its last seq). */
export function readSpan(r: LogRecord): { readonly items: Uint8Array; readonly position: SourcePosition | undefined } {
  const p = r.payload;
  if (p[0] === POSITION_PREFIX) {
    const len = p[1]! | (p[2]! << 8);
    const [source, record] = cbor.decode(p.subarray(3, 3 + len)) as [string, number];
    return { items: p.subarray(3 + len), position: { source, record } };
  }
  if (p[0] === LEGACY_POSITION_ITEM && r.count === 1) {
    const rec = cbor.decode(p) as unknown[];
    if (typeof rec[3] === 'string' && typeof rec[4] === 'number') return { items: p, position: { source: rec[3], record: rec[4] } };
  }
  return { items: p, position: undefined };
}

/** Where a source batch ends among pending events: after `at` of them, input reached `position`. */
export interface Cut {
  readonly at: number;
  readonly position: SourcePosition;
}

/**
 * Cuts the events of one tick into spans: one per source batch (its position on the last),
 * each of at most `maxEvents` events and `maxSpanBytes` bytes (halved until it fits). An event
 * that alone passes `maxSpanBytes` can be neither stored nor framed: it is left out and its
 * encoded size given to `oversize` (the caller counts it), and a position it carried goes on
 * the span before it in this tick where that one has room and no other source's (that input is
 * then all handled; else a restart reads the batch again and counts the event again).
 */
export function toSpans(events: PendingEvent[], cuts: readonly Cut[], maxEvents: number, maxSpanBytes: number, oversize: (bytes: number) => void = () => {}): Span[] {
  const spans: Span[] = [];
  let last: { from: number; to: number; position: SourcePosition | undefined } | undefined;
  const slice = (from: number, to: number): PendingEvent[] => (from === 0 && to === events.length ? events : events.slice(from, to));
  const add = (from: number, to: number, position: SourcePosition | undefined): void => {
    const payload = encodeSpan(slice(from, to), position);
    if (payload.byteLength <= maxSpanBytes) {
      spans.push({ payload, count: to - from });
      last = { from, to, position };
    } else if (to - from > 1) {
      const mid = (from + to) >>> 1;
      add(from, mid, undefined);
      add(mid, to, position);
    } else {
      oversize(payload.byteLength);
      // One position per span: only where the span before holds none, or one of the same source.
      if (position === undefined || last === undefined || (last.position !== undefined && last.position.source !== position.source)) return;
      const moved = encodeSpan(slice(last.from, last.to), position);
      if (moved.byteLength <= maxSpanBytes) {
        spans[spans.length - 1] = { payload: moved, count: last.to - last.from };
        last = { ...last, position };
      }
    }
  };
  let from = 0;
  for (const cut of [...cuts, { at: events.length, position: undefined }]) {
    for (; from < cut.at; from = Math.min(cut.at, from + maxEvents)) {
      const to = Math.min(cut.at, from + maxEvents);
      add(from, to, to === cut.at ? cut.position : undefined);
    }
  }
  return spans;
}
