/**
 * Independent batch computation of windowed aggregates, for tests: sorts nothing, streams
 * nothing — it assigns every event to its windows directly from the definitions and folds.
 */
export interface TimedEvent { ts: number; key: string; value: number }

export interface BatchResult { key: string; windowStart: number; windowEnd: number; count: number; sum: number; min: number; max: number }

export function batchAligned(events: readonly TimedEvent[], size: number, slide = size, offset = 0): BatchResult[] {
  const acc = new Map<string, BatchResult>();
  for (const e of events) {
    // Every window [s, s + size) with s ≡ offset (mod slide) and s <= ts < s + size.
    const first = Math.ceil((e.ts - size + 1 - offset) / slide) * slide + offset;
    for (let s = first; s <= e.ts; s += slide) {
      if (e.ts < s || e.ts >= s + size) continue;
      fold(acc, e, s, s + size);
    }
  }
  return sorted([...acc.values()]);
}

export function batchSessions(events: readonly TimedEvent[], gap: number): BatchResult[] {
  const byKey = new Map<string, TimedEvent[]>();
  for (const e of events) (byKey.get(e.key) ?? byKey.set(e.key, []).get(e.key)!).push(e);
  const acc = new Map<string, BatchResult>();
  for (const [, list] of byKey) {
    const s = [...list].sort((a, b) => a.ts - b.ts);
    let start = s[0]!.ts;
    let end = start + gap;
    let group: TimedEvent[] = [];
    const flush = () => { for (const e of group) fold(acc, e, start, end); };
    for (const e of s) {
      if (e.ts > end) { flush(); group = []; start = e.ts; end = e.ts + gap; }
      group.push(e);
      end = Math.max(end, e.ts + gap);
    }
    flush();
  }
  return sorted([...acc.values()]);
}

function fold(acc: Map<string, BatchResult>, e: TimedEvent, start: number, end: number): void {
  const id = `${e.key}|${start}|${end}`;
  const r = acc.get(id);
  if (r) { r.count++; r.sum += e.value; r.min = Math.min(r.min, e.value); r.max = Math.max(r.max, e.value); }
  else acc.set(id, { key: e.key, windowStart: start, windowEnd: end, count: 1, sum: e.value, min: e.value, max: e.value });
}

export function sorted<T extends { key: string; windowStart: number }>(rs: T[]): T[] {
  return rs.sort((a, b) => a.windowStart - b.windowStart || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
