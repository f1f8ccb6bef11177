/**
 * examples/word-count.ts run through the built CLI bundle as a real child process, checked
 * against a batch word count written here from the definition (not from the app's code).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundle, ROOT, sluice } from '../test/support/bundle.ts';
import { createSeededRandom, type SeededRandom } from '../test/support/seeded-random.ts';

const APP = join(ROOT, 'examples', 'word-count.ts');

interface Count { word: string; windowStart: string; windowEnd: string; count: number }



const parseLines = (text: string): Count[] => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Count);
const byWindowThenWord = (a: Count, b: Count): number =>
  a.windowStart < b.windowStart ? -1 : a.windowStart > b.windowStart ? 1 : a.word < b.word ? -1 : a.word > b.word ? 1 : 0;

// ---- The reference: a plain batch word count, from the definition in the app's doc comment.

/** Letters, digits and apostrophes form words; everything else separates them. */
function isWordChar(ch: string): boolean {
  return ch === "'" || /^[\p{L}\p{N}]$/u.test(ch);
}

function splitWords(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  const flush = (): void => {
    let s = 0;
    let e = cur.length;
    while (s < e && cur[s] === "'") s++;
    while (e > s && cur[e - 1] === "'") e--;
    if (e > s) out.push(cur.slice(s, e));
    cur = '';
  };
  for (const ch of text.toLowerCase()) {
    if (isWordChar(ch)) cur += ch;
    else flush();
  }
  flush();
  return out;
}

/**
 * Counts words per window. With `maxDelay`, it also models the watermark (the newest time so
 * far minus maxDelay): a line whose window ended at or before it is late, and its words are
 * returned apart instead of counted.
 */
function batchWordCount(lines: readonly { ts: number | string; text: string }[], windowMs: number, maxDelay = Infinity): Count[] & { late: { word: string; ts: number | string }[] } {
  const counts = new Map<string, Count>();
  const late: { word: string; ts: number | string }[] = [];
  let newest = -Infinity;
  for (const l of lines) {
    const t = typeof l.ts === 'number' ? l.ts : new Date(l.ts).getTime();
    const start = t - (((t % windowMs) + windowMs) % windowMs);
    const isLate = start + windowMs <= newest - maxDelay;
    newest = Math.max(newest, t);
    if (isLate) {
      for (const w of splitWords(l.text)) late.push({ word: w, ts: l.ts });
      continue;
    }
    for (const w of splitWords(l.text)) {
      const id = `${start}\u0000${w}`;
      const c = counts.get(id);
      if (c) c.count++;
      else counts.set(id, { word: w, windowStart: new Date(start).toISOString(), windowEnd: new Date(start + windowMs).toISOString(), count: 1 });
    }
  }
  return Object.assign([...counts.values()].sort(byWindowThenWord), { late });
}

// ---- The input: seeded text with bounded disorder.

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'zi', 'ba', 'do', 'fe', 'gu', 'hi', 'jo', 'pe', 'sa', 'wu', 'ye'];
const EXTRAS = ["don't", "O'Brien", 'Straße', 'café', 'naïve', 'co-op', 'e-mail', 'h2o', '42', "'quoted'", 'ÉCOLE'];

function vocabulary(rng: SeededRandom, size: number): string[] {
  const words = new Set<string>(EXTRAS);
  while (words.size < size) {
    let w = '';
    for (let n = rng.int(1, 3); n > 0; n--) w += SYLLABLES[rng.int(0, SYLLABLES.length - 1)]!;
    words.add(w);
  }
  return [...words];
}

/**
 * `n` lines starting at `t0`, 40 ms apart on average, each displaced by up to `disorder` ms.
 * Timestamps alternate between ms numbers and ISO text; words get random case and punctuation.
 */
function textStream(rng: SeededRandom, n: number, t0: number, disorder: number): { ts: number | string; text: string }[] {
  const vocab = vocabulary(rng, 320);
  const seps = [' ', ' ', ' ', ', ', '. ', '! ', ' -- ', '\t', ' (', ') ', '; ', '"'];
  const lines: { ts: number | string; text: string }[] = [];
  for (let i = 0; i < n; i++) {
    const t = t0 + i * 40 + rng.int(0, disorder);
    // Zipf-like: low indexes are common, so some words repeat a lot and many rarely.
    const parts: string[] = [];
    for (let k = rng.int(0, 12); k > 0; k--) {
      let w = vocab[Math.floor(vocab.length * rng.next() ** 2.5)]!;
      const r = rng.next();
      if (r < 0.1) w = w.toUpperCase();
      else if (r < 0.25) w = w[0]!.toUpperCase() + w.slice(1);
      parts.push(w, seps[rng.int(0, seps.length - 1)]!);
    }
    lines.push({ ts: i % 3 === 0 ? new Date(t).toISOString() : t, text: parts.join('') });
  }
  return lines;
}

describe('examples/word-count.ts through the CLI bundle', () => {
  let dir = '';
  beforeAll(async () => {
    ensureBundle();
    dir = await mkdtemp(join(tmpdir(), 'sluice-word-count-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('counts words per 10 s window like the batch count, with disorder within maxDelay', async () => {
    const rng = createSeededRandom(20260401);
    // Disorder up to 4.5 s; the app's default maxDelay is 5 s, so no line is late.
    const lines = textStream(rng, 4000, Date.UTC(2024, 0, 1, 11, 59, 57, 123), 4500);
    const input = join(dir, 'text.jsonl');
    const out = join(dir, 'counts.jsonl');
    const late = join(dir, 'late.jsonl');
    await writeFile(input, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const r = await sluice(['run', APP, '--in', `text=${input}`, '--out', `counts=${out}`, '--out', `late=${late}`]);
    expect(r.stderr).not.toMatch(/dead letters/);
    expect(r.code).toBe(0);

    const expected = batchWordCount(lines, 10_000);
    const actual = parseLines(await readFile(out, 'utf8'));
    expect(await readFile(late, 'utf8')).toBe('');
    // Every (word, window) once: nothing fired twice.
    expect(new Set(actual.map((c) => `${c.windowStart} ${c.word}`)).size).toBe(actual.length);
    expect(actual.sort(byWindowThenWord)).toEqual([...expected]);
    // The input really is a workload: hundreds of words, many windows, and out of order.
    expect(new Set(expected.map((c) => c.word)).size).toBeGreaterThan(250);
    expect(new Set(expected.map((c) => c.windowStart)).size).toBeGreaterThan(15);
    const times = lines.map((l) => (typeof l.ts === 'number' ? l.ts : Date.parse(l.ts)));
    expect(times.some((t, i) => i > 0 && t < times[i - 1]!)).toBe(true);
  });

  it('honours --param window', async () => {
    const rng = createSeededRandom(7);
    const lines = textStream(rng, 600, Date.UTC(2024, 5, 30, 23, 59, 0), 2000);
    const input = join(dir, 'text-3s.jsonl');
    const out = join(dir, 'counts-3s.jsonl');
    await writeFile(input, lines.map((l) => JSON.stringify(l)).join('\n'));

    const r = await sluice(['run', APP, '--in', `text=${input}`, '--out', `counts=${out}`, '--out', `late=${join(dir, 'late-window.jsonl')}`, '--param', 'window=3s', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(parseLines(await readFile(out, 'utf8')).sort(byWindowThenWord)).toEqual([...batchWordCount(lines, 3_000)]);
  });

  it('with disorder beyond maxDelay, late words go to the late sink and the rest is counted', async () => {
    const rng = createSeededRandom(99);
    const lines = textStream(rng, 1500, Date.UTC(2024, 2, 1), 3000);
    const input = join(dir, 'text-late.jsonl');
    const out = join(dir, 'counts-late.jsonl');
    const late = join(dir, 'late-late.jsonl');
    await writeFile(input, lines.map((l) => JSON.stringify(l)).join('\n'));

    const r = await sluice(['run', APP, '--in', `text=${input}`, '--out', `counts=${out}`, '--out', `late=${late}`, '--param', 'maxDelay=1s', '--quiet']);
    expect(r.code).toBe(0);
    const expected = batchWordCount(lines, 10_000, 1_000);
    expect(expected.late.length).toBeGreaterThan(10);
    expect(parseLines(await readFile(out, 'utf8')).sort(byWindowThenWord)).toEqual([...expected]);
    const lateWords = (await readFile(late, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    expect(lateWords).toEqual(expected.late);
  });

  it('reads stdin and writes stdout', async () => {
    const input = [
      { ts: '2024-01-01T00:00:01Z', text: 'Hello world' },
      { ts: 1704067205000, text: "hello, HELLO! 'Tis" },
      { ts: '2024-01-01T00:00:12.500Z', text: "world's end" },
      { ts: 1704067203000, text: 'World' },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n';

    const r = await sluice(['run', APP, '--in', 'text=-', '--out', 'counts=-', '--out', `late=${join(dir, 'late-stdin.jsonl')}`, '--quiet'], { input });
    expect(r.code).toBe(0);
    const w0 = { windowStart: '2024-01-01T00:00:00.000Z', windowEnd: '2024-01-01T00:00:10.000Z' };
    const w1 = { windowStart: '2024-01-01T00:00:10.000Z', windowEnd: '2024-01-01T00:00:20.000Z' };
    expect(parseLines(r.stdout).sort(byWindowThenWord)).toEqual([
      { word: 'hello', ...w0, count: 3 },
      { word: 'tis', ...w0, count: 1 },
      { word: 'world', ...w0, count: 2 },
      { word: 'end', ...w1, count: 1 },
      { word: "world's", ...w1, count: 1 },
    ]);
  });

  it('sends lines that are not JSON, or have no ts or text, to the dead-letter stream', async () => {
    const input = ['{"ts":1000,"text":"a b a"}', 'not json', '{"text":"no time"}', '{"ts":2000}', '{"ts":3000,"text":"b"}'].join('\n');
    const r = await sluice(['run', APP, '--in', 'text=-', '--out', 'counts=-', '--out', 'dead-letter=-', '--out', `late=${join(dir, 'late-dead.jsonl')}`, '--quiet'], { input });
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const dead = out.filter((o) => o.deadLetter === true);
    expect(dead.map((d) => d.payload)).toEqual(['not json', '{"text":"no time"}', '{"ts":2000}']);
    expect(out.filter((o) => o.deadLetter !== true).sort((a, b) => String(a.word).localeCompare(String(b.word)))).toEqual([
      { word: 'a', windowStart: '1970-01-01T00:00:00.000Z', windowEnd: '1970-01-01T00:00:10.000Z', count: 2 },
      { word: 'b', windowStart: '1970-01-01T00:00:00.000Z', windowEnd: '1970-01-01T00:00:10.000Z', count: 2 },
    ]);
  });
});
