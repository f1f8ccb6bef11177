/**
 * Frame codec throughput: encode and decode of data frames carrying 1000 ~100-byte events,
 * beside JSON.stringify / JSON.parse of the same batch in the same run (the ratio is the figure).
 *
 * npx esbuild bench/wire.ts --bundle --platform=node --format=esm --packages=external --outfile=/tmp/wire.mjs && node /tmp/wire.mjs
 */
import { Encoder } from 'cbor-x';
import { decodeFrame, encodeDataFrame, encodeFrame } from '../shared/wire/index.ts';
import type { DataFrame, FrameEvent } from '../shared/wire/index.ts';

const EVENTS = 1000;
const RUNS = 5;
const RUN_MS = 600;

function makeEvents(): FrameEvent[] {
  const events: FrameEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    events.push({
      ts: 1_700_000_000_000 + i * 10,
      key: `machine-${String(i % 50).padStart(3, '0')}`,
      value: { temp: 20 + (i % 70) / 7, rpm: 1400 + (i % 97), vib: [0.01 * (i % 13), 0.02, 0.003 * (i % 7)], ok: i % 11 !== 0 },
    });
  }
  return events;
}

/** Frames per second of `fn` over one window of RUN_MS. */
function window(fn: () => void): number {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

/** Runs the cases round-robin (so load from other processes hits all alike); median frames/s each. */
function measure(cases: Record<string, () => void>): Record<string, number> {
  const rates: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(cases)) {
    for (let i = 0; i < 200; i++) fn(); // warm up the JIT
    rates[name] = [];
  }
  for (let r = 0; r < RUNS; r++) {
    for (const [name, fn] of Object.entries(cases)) rates[name]!.push(window(fn));
  }
  const medians: Record<string, number> = {};
  for (const [name, list] of Object.entries(rates)) medians[name] = list.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
  return medians;
}

const events = makeEvents();
const frame: DataFrame = {
  type: 'data', producer: 'gw-0001', epoch: 1, firstSeq: 1_000_000, lastSeq: 1_000_000 + EVENTS - 1, watermark: -Infinity, events,
};
const cbor = encodeFrame(frame);
// JSON cannot carry -Infinity, which is one reason frames are CBOR; use a finite watermark for it.
const jsonFrame = { ...frame, watermark: 1_700_000_000_000 };
const json = JSON.stringify(jsonFrame);
const check = decodeFrame(cbor);
if (!check.ok) throw new Error(`bench frame does not decode: ${check.reason}`);

// The sender's path: the events as its outbox stores them, one CBOR item each, copied as they are.
const store = new Encoder({ useRecords: false });
const { events: _events, ...header } = frame;
const stored = { ...header, items: events.map((e) => store.encode([e.ts, e.key, e.value])) };

let sink = 0;
const results = measure({
  'cbor encodeFrame': () => { sink += encodeFrame(frame).length; },
  'cbor encodeDataFrame (stored items)': () => { sink += encodeDataFrame(stored).length; },
  'cbor decodeFrame': () => { const r = decodeFrame(cbor); sink += r.ok ? 1 : 0; },
  'JSON.stringify': () => { sink += JSON.stringify(jsonFrame).length; },
  'JSON.parse': () => { sink += (JSON.parse(json) as { events: unknown[] }).events.length; },
});

console.log(`node ${process.version}; ${EVENTS} events per frame; median of ${RUNS} interleaved runs of ${RUN_MS} ms`);
console.log(`frame size: CBOR ${cbor.length} B (${(cbor.length / EVENTS).toFixed(1)} B/event), JSON ${Buffer.byteLength(json)} B (${(Buffer.byteLength(json) / EVENTS).toFixed(1)} B/event)`);
for (const [name, framesPerSec] of Object.entries(results)) {
  const bytes = name.startsWith('cbor') ? cbor.length : Buffer.byteLength(json);
  console.log(`${name.padEnd(36)} ${(framesPerSec * EVENTS / 1e6).toFixed(2).padStart(6)} M events/s  ${(framesPerSec * bytes / 1e6).toFixed(0).padStart(5)} MB/s`);
}
console.log(`encode vs JSON.stringify: ${(results['cbor encodeFrame']! / results['JSON.stringify']!).toFixed(2)}x; stored items vs JSON.stringify: ${(results['cbor encodeDataFrame (stored items)']! / results['JSON.stringify']!).toFixed(2)}x; decode vs JSON.parse: ${(results['cbor decodeFrame']! / results['JSON.parse']!).toFixed(2)}x`);
if (sink === 0) console.log('(sink)');
