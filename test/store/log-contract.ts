/**
 * The contract every OutboxLog implementation keeps (pattern: MQTT.js abstract_store).
 * `describeLogContract` runs it against one factory; the factory may share a clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type LogEvent, type LogOptions, type OutboxLog } from '../../shared/store/index.ts';

export type LogFactory = (opts: LogOptions) => Promise<OutboxLog>;

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill & 0xff);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (u: Uint8Array): string => new TextDecoder().decode(u);

async function appendAll(log: OutboxLog, count: number, size: number, opts?: { priority?: number }): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(await log.append(bytes(size, i), opts));
  return seqs;
}

async function readAll(log: OutboxLog, from = 1): Promise<{ seq: number; count: number; priority: number; ts: number; payload: Uint8Array }[]> {
  const out = [];
  let next = from;
  for (;;) {
    const batch = await log.read(next, 97);
    if (batch.length === 0) return out;
    out.push(...batch);
    const last = batch[batch.length - 1];
    next = last ? last.seq + last.count : next;
  }
}

export function describeLogContract(name: string, make: LogFactory): void {
  describe(`OutboxLog contract: ${name}`, () => {
    const open: OutboxLog[] = [];
    const log = async (opts: LogOptions = {}): Promise<OutboxLog> => {
      const l = await make(opts);
      open.push(l);
      return l;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((l) => l.close()));
    });

    it('assigns seqs 1, 2, 3 … and resolves append once the record is durable', async () => {
      const l = await log();
      expect(await l.append(text('a'))).toBe(1);
      expect(await l.append(text('b'))).toBe(2);
      expect(l.durableSeq).toBeGreaterThanOrEqual(2);
      const range = await l.appendBatch([text('c'), text('d'), text('e')]);
      expect(range).toEqual({ first: 3, last: 5 });
      expect(l.stats().nextSeq).toBe(6);
    });

    it('reads records back in order with their seq, ts and priority', async () => {
      const l = await log();
      await l.append(text('one'), { ts: 1000, priority: 7 });
      await l.appendBatch([text('two'), text('three')], { ts: 2000 });
      const got = await l.read(1, 10);
      expect(got.map((r) => [r.seq, decode(r.payload), r.ts, r.priority])).toEqual([
        [1, 'one', 1000, 7],
        [2, 'two', 2000, 0],
        [3, 'three', 2000, 0],
      ]);
      expect((await l.read(2, 10)).map((r) => r.seq)).toEqual([2, 3]);
      expect(await l.read(4, 10)).toEqual([]);
    });

    it('limits a read by record count and by bytes, but always returns one record', async () => {
      const l = await log();
      await l.appendBatch(Array.from({ length: 20 }, (_, i) => bytes(100, i)));
      expect(await l.read(1, 5)).toHaveLength(5);
      expect(await l.read(1, 100, 350)).toHaveLength(3);
      expect(await l.read(1, 100, 10)).toHaveLength(1);
    });

    it('readWith hands the same records as read to its callback, once, and resolves with its result', async () => {
      const l = await log();
      await l.appendBatch([text('one'), text('two')], { ts: 1000 });
      await l.appendSpans([{ payload: text('three'), count: 3 }], { ts: 2000 });
      let calls = 0;
      const got = await l.readWith(2, 10, Infinity, (records) => {
        calls++;
        return records.map((r) => [r.seq, r.count, decode(r.payload), r.ts]);
      });
      expect(calls).toBe(1);
      expect(got).toEqual([[2, 1, 'two', 1000], [3, 3, 'three', 2000]]);
      expect(got).toEqual((await l.read(2, 10)).map((r) => [r.seq, r.count, decode(r.payload), r.ts]));
      expect(await l.readWith(6, 10, Infinity, (records) => records.length)).toBe(0);
    });

    it('copies payloads, so the caller may reuse its buffer', async () => {
      const l = await log();
      const buf = text('keep');
      await l.append(buf);
      buf.fill(0);
      expect(decode((await l.read(1, 1))[0]?.payload ?? new Uint8Array())).toBe('keep');
      // A Node Buffer too (its slice() is a view, not a copy), through every append.
      const node = Buffer.from('spanbatch');
      const appended = Promise.all([l.appendSpans([{ payload: node.subarray(0, 4), count: 2 }]), l.appendBatch([node.subarray(4)])]);
      node.fill(0);
      await appended;
      expect((await l.read(2, 10)).map((r) => decode(r.payload))).toEqual(['span', 'batch']);
    });

    it('trims acked records and never acks past what is durable', async () => {
      const l = await log();
      await appendAll(l, 10, 10);
      await l.ack(4);
      expect((await l.read(1, 100)).map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
      const s = l.stats();
      expect(s.ackedSeq).toBe(4);
      expect(s.records).toBe(6);
      await l.ack(2);
      expect(l.stats().ackedSeq).toBe(4);
      await l.ack(1000);
      expect(l.stats().ackedSeq).toBe(10);
      expect(await l.read(1, 100)).toEqual([]);
      expect(await l.append(text('next'))).toBe(11);
      expect(l.stats().records).toBe(1);
      expect(l.stats().bytes).toBe(4 + 28);
    });

    it('stores a span: one record covering several seqs, read, counted and acked as those seqs', async () => {
      const l = await log();
      await l.append(text('a'));
      expect(await l.appendSpans([{ payload: text('0123456789'), count: 10 }], { ts: 500 })).toEqual({ first: 2, last: 11 });
      expect(await l.append(text('b'))).toBe(12);
      expect(l.durableSeq).toBeGreaterThanOrEqual(12);
      const all = await l.read(1, 100);
      expect(all.map((r) => [r.seq, r.count, decode(r.payload)])).toEqual([[1, 1, 'a'], [2, 10, '0123456789'], [12, 1, 'b']]);
      expect(all[1]?.ts).toBe(500);
      expect(l.stats().records).toBe(12);
      // A read from inside the span returns the whole span; maxRecords counts seqs, but one
      // record always comes back.
      expect((await l.read(7, 100)).map((r) => r.seq)).toEqual([2, 12]);
      expect((await l.read(1, 5)).map((r) => r.seq)).toEqual([1]);
      expect((await l.read(2, 5)).map((r) => r.seq)).toEqual([2]);
      // An ack inside the span keeps it (its other seqs are not acked); past its end trims it.
      await l.ack(6);
      expect(l.stats().records).toBe(6);
      expect((await l.read(7, 100)).map((r) => r.seq)).toEqual([2, 12]);
      await l.ack(11);
      expect((await l.read(1, 100)).map((r) => r.seq)).toEqual([12]);
      expect(l.stats().records).toBe(1);
      expect(await l.appendSpans([{ payload: text('xyz'), count: 3 }])).toEqual({ first: 13, last: 15 });
    });

    it('refuses a span of no seqs, or of more seqs than payload bytes, with a config error', async () => {
      const l = await log();
      await expect(l.appendSpans([{ payload: text('ab'), count: 0 }])).rejects.toMatchObject({ code: 'STORE_BAD_SPAN' });
      await expect(l.appendSpans([{ payload: text('ab'), count: 3 }])).rejects.toMatchObject({ code: 'STORE_BAD_SPAN' });
      await expect(l.appendSpans([{ payload: text('ab'), count: 1.5 }])).rejects.toMatchObject({ code: 'STORE_BAD_SPAN' });
      // All-or-nothing: one bad span refuses the others with it.
      await expect(l.appendSpans([{ payload: text('abc'), count: 3 }, { payload: text('d'), count: 2 }])).rejects.toMatchObject({ code: 'STORE_BAD_SPAN' });
      expect(l.stats().nextSeq).toBe(1);
      expect(await l.appendSpans([{ payload: text('abc'), count: 3 }, { payload: text('d'), count: 1 }])).toEqual({ first: 1, last: 4 });
      expect((await l.read(1, 10)).map((r) => [r.seq, r.count])).toEqual([[1, 3], [4, 1]]);
    });

    it('drop-oldest evicts whole spans and counts each seq they held', async () => {
      const l = await log({ maxBytes: 8192, overflow: 'drop-oldest', segmentBytes: 2048 });
      for (let b = 0; b < 40; b++) await l.appendSpans([{ payload: bytes(400, b), count: 8 }]);
      const s = l.stats();
      expect(s.bytes).toBeLessThanOrEqual(8192);
      expect(s.evicted.size).toBeGreaterThan(0);
      expect(s.evicted.size % 8).toBe(0);
      expect(s.evicted.size + s.records).toBe(320);
      const left = await readAll(l);
      expect(left.reduce((n, r) => n + r.count, 0)).toBe(s.records);
      expect(left.at(-1)?.seq).toBe(313);
      expect(left[0]?.seq).toBe(321 - s.records);
    });

    it('drop-oldest keeps the byte bound and counts every evicted record', async () => {
      const l = await log({ maxBytes: 8192, overflow: 'drop-oldest', segmentBytes: 2048 });
      const events: LogEvent[] = [];
      l.subscribe((e) => events.push(e));
      for (let b = 0; b < 20; b++) await l.appendBatch(Array.from({ length: 10 }, () => bytes(100, b)));
      const s = l.stats();
      expect(s.bytes).toBeLessThanOrEqual(8192);
      expect(s.evicted.size).toBeGreaterThan(0);
      expect(s.evicted.size + s.records).toBe(200);
      const left = await readAll(l);
      expect(left).toHaveLength(s.records);
      expect(left.at(-1)?.seq).toBe(200);
      expect(left[0]?.seq).toBe(201 - s.records);
      expect(events.some((e) => e.type === 'evicted' && e.reason === 'size')).toBe(true);
    });

    it('reject refuses appends at the bound with a retryable error until acks make room', async () => {
      const l = await log({ maxBytes: 4096, overflow: 'reject' });
      let seqs = 0;
      let refused: unknown;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        try {
          seqs = await l.append(bytes(100, i));
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toMatchObject({ code: 'STORE_FULL', retryable: true });
      expect(l.isWritable(100)).toBe(false);
      expect(l.stats().rejected).toBe(1);
      expect(l.stats().health).toBe('full');
      const writable = l.whenWritable();
      await l.ack(seqs);
      await writable;
      expect(await l.append(bytes(100, 1))).toBe(seqs + 1);
      expect(l.stats().evicted).toEqual({ size: 0, age: 0, priority: 0 });
    });

    it('priority drops the lowest priority first and keeps every higher one', async () => {
      const l = await log({ maxBytes: 16384, overflow: 'priority', segmentBytes: 2048, groupCommitMs: 0 });
      const evicted = new Promise<void>((resolve) => l.subscribe((e) => e.type === 'evicted' && resolve()));
      const high: number[] = [];
      for (let i = 0; i < 200; i++) {
        const priority = i % 4 === 0 ? 9 : 1;
        try {
          const seq = await l.append(bytes(100, i), { priority });
          if (priority === 9) high.push(seq);
        } catch (err) {
          expect(err).toMatchObject({ code: 'STORE_FULL', retryable: true });
          await l.whenWritable();
        }
      }
      await evicted;
      await l.whenDurable(l.stats().nextSeq - 1);
      const s = l.stats();
      expect(s.evicted.priority).toBeGreaterThan(0);
      expect(s.evicted.size).toBe(0);
      const left = await readAll(l);
      const keptHigh = left.filter((r) => r.priority === 9).map((r) => r.seq);
      expect(keptHigh).toEqual(high);
      expect(left.length).toBeLessThan(200);
    });

    it('evicts records older than maxAgeMs (by their ts) and reports the oldest age', async () => {
      const clock = createManualClock(10_000);
      const l = await log({ maxAgeMs: 1000, clock, groupCommitMs: 0 });
      await l.appendBatch(Array.from({ length: 100 }, (_, i) => bytes(10, i)));
      clock.advance(400);
      expect(l.stats().oldestAgeMs).toBe(400);
      clock.advance(1000);
      await l.appendBatch(Array.from({ length: 10 }, (_, i) => bytes(10, i)));
      const s = l.stats();
      expect(s.evicted.age).toBeGreaterThan(100 - 64);
      const left = await readAll(l);
      expect(left.filter((r) => r.ts === 10_000).length).toBeLessThan(64);
      expect(left.filter((r) => r.ts === 11_400)).toHaveLength(10);
    });

    it('refuses bad priorities and oversized records with a config error', async () => {
      const l = await log({ maxRecordBytes: 64 });
      await expect(l.append(text('x'), { priority: 300 })).rejects.toMatchObject({ code: 'STORE_BAD_PRIORITY' });
      await expect(l.append(bytes(65, 1))).rejects.toMatchObject({ code: 'STORE_RECORD_TOO_BIG' });
      expect(await l.append(bytes(64, 1))).toBe(1);
    });

    it('announces durable records to subscribers until they unsubscribe', async () => {
      const l = await log();
      const seen: number[] = [];
      const off = l.subscribe((e) => e.type === 'durable' && seen.push(e.seq));
      await l.append(text('a'));
      off();
      await l.append(text('b'));
      expect(seen).toEqual([1]);
    });

    it('refuses appends after close, and close is idempotent', async () => {
      const l = await log();
      await l.append(text('a'));
      await l.close();
      await l.close();
      await expect(l.append(text('b'))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    });
  });
}
