/**
 * examples/riot-etl.ts run through the built CLI bundle as a real child process, over the
 * RIoTBench SYS sample (test/fixtures/riotbench) and over a seeded synthetic stream, checked row
 * by row against a batch ETL written here from the definition: one pass over the lines in order.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundle, ROOT, sluice } from '../test/support/bundle.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';

const APP = join(ROOT, 'examples', 'riot-etl.ts');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'riotbench');
const SAMPLE = join(FIXTURES, 'SYS_sample_data_senml.csv');
const METADATA = join(FIXTURES, 'city-metadata.txt');




// ---- The reference ETL, in one sequential pass.

const FIELDS = ['temperature', 'humidity', 'light', 'dust', 'airquality_raw'];
/** RIoTBench tasks_CITY.properties FILTER.RANGE_FILTER.VALID_RANGE, as [min, max] per field. */
const SYS_RANGES: Record<string, [number, number]> = {
  temperature: [-12.5, 43.1], humidity: [10.7, 95.2], light: [1345, 26282], dust: [186.61, 5188.21], airquality_raw: [17, 363],
};

type Row = Record<string, unknown>;

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || !/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return null;
  return parseFloat(v);
}

/** `<sensor id>:<location>,<type>` lines (a type may itself hold commas). */
function lookupTable(text: string | undefined): Map<string, [string, string | null]> {
  const m = new Map<string, [string, string | null]>();
  for (const line of (text ?? '').split('\n')) {
    const idEnd = line.indexOf(':');
    if (idEnd < 1) continue;
    const [location, ...type] = line.slice(idEnd + 1).split(',');
    m.set(line.slice(0, idEnd), [location!, type.length > 0 ? type.join(',') : null]);
  }
  return m;
}

/** Rows of the good lines, and how many lines were bad (no `<ts>,`, not JSON, no "e", or no source). */
function batchEtl(lines: readonly string[], opts: { k: number; ranges: Record<string, [number, number]>; metadata?: string }): { rows: Row[]; bad: number } {
  const lookup = lookupTable(opts.metadata);
  const history = new Map<string, number[]>();
  const rows: Row[] = [];
  let bad = 0;
  for (const line of lines) {
    if (line === '') continue;
    const m = /^(\d+),(.*)$/s.exec(line);
    let pack: { e?: { n?: string; v?: unknown; sv?: unknown }[] } | undefined;
    try { pack = m ? JSON.parse(m[2]!) : undefined; } catch { pack = undefined; }
    const entries = new Map<string, unknown>();
    for (const e of Array.isArray(pack?.e) ? pack.e : []) if (typeof e?.n === 'string') entries.set(e.n, e.v !== undefined ? e.v : e.sv);
    const source = entries.get('source');
    if (!m || typeof source !== 'string' || source === '') { bad++; continue; }
    const ts = Number(m[1]);
    const row: Row = {
      msgId: `${ts}/${source}`, timestamp: new Date(ts).toISOString(), source,
      longitude: toNumber(entries.get('longitude')), latitude: toNumber(entries.get('latitude')),
    };
    const interpolated: string[] = [];
    for (const f of FIELDS) {
      let v = toNumber(entries.get(f));
      const range = opts.ranges[f];
      if (v !== null && range && (v < range[0] || v > range[1])) v = null;
      const h = history.get(`${source} ${f}`) ?? [];
      if (v !== null) {
        history.set(`${source} ${f}`, [...h, v].slice(-opts.k));
      } else if (opts.k > 0 && h.length > 0) {
        v = h.reduce((a, b) => a + b, 0) / h.length;
        interpolated.push(f);
      }
      row[f] = v;
    }
    const a = lookup.get(source);
    row.location = a?.[0] ?? null;
    row.type = a?.[1] ?? null;
    row.interpolated = interpolated;
    rows.push(row);
  }
  return { rows, bad };
}

/** Means may be summed in another order: compare numbers to 12 significant digits. */
function rounded(rows: Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(12)) : v])));
}

const readRows = async (path: string): Promise<Row[]> =>
  (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);

// ---- A synthetic SYS-like stream that exercises interpolation hard.

function syntheticLines(seed: number, n: number, knownSensors: readonly string[]): { lines: string[]; bad: number } {
  const rng = createSeededRandom(seed);
  const sensors = [...knownSensors.slice(0, 15), ...Array.from({ length: 10 }, (_, i) => `unknown-sensor-${i}`)];
  const spread: Record<string, [number, number]> = {
    temperature: [-20, 50], humidity: [0, 100], light: [0, 30000], dust: [100, 6000], airquality_raw: [0, 400],
  };
  const lines: string[] = [];
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const ts = 1422748800000 + i * 250;
    const r = rng.next();
    if (r < 0.01) { lines.push(`${ts},{"e":[{"v":"1","n":"temperature"}],"bt":${ts}}`); bad++; continue; }
    if (r < 0.02) { lines.push(`${ts},{not json`); bad++; continue; }
    if (r < 0.025) { lines.push('no timestamp here'); bad++; continue; }
    const e: object[] = [{ u: 'string', n: 'source', sv: sensors[rng.int(0, sensors.length - 1)]! }];
    if (rng.next() < 0.9) e.push({ v: (rng.next() * 360 - 180).toFixed(6), u: 'lon', n: 'longitude' });
    if (rng.next() < 0.9) e.push({ v: (rng.next() * 180 - 90).toFixed(6), u: 'lat', n: 'latitude' });
    for (const f of FIELDS) {
      const q = rng.next();
      if (q < 0.08) continue; // absent
      const [lo, hi] = spread[f]!;
      const x = lo + rng.next() * (hi - lo);
      if (q < 0.12) e.push({ v: rng.next() < 0.5 ? 'NaN' : '', u: 'per', n: f });
      else if (q < 0.2) e.push({ v: Math.round(x * 100) / 100, u: 'per', n: f }); // a JSON number
      else e.push({ v: (Math.round(x * 100) / 100).toString(), u: 'per', n: f });
    }
    // Entry order does not matter in SenML.
    for (let j = e.length - 1; j > 0; j--) { const s = rng.int(0, j); [e[j], e[s]] = [e[s]!, e[j]!]; }
    lines.push(`${ts},${JSON.stringify({ e, bt: ts })}`);
  }
  return { lines, bad };
}

describe('examples/riot-etl.ts through the CLI bundle', () => {
  let dir = '';
  beforeAll(async () => {
    ensureBundle();
    dir = await mkdtemp(join(tmpdir(), 'sluice-riot-etl-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the RIoTBench SYS sample, annotated from city-metadata.txt, equals the batch ETL', async () => {
    const out = join(dir, 'rows.jsonl');
    const r = await sluice(['run', APP, '--in', `senml=${SAMPLE}`, '--out', `rows=${out}`, '--param', `metadata=${METADATA}`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/source senml: 1000 records, 1000 events, 0 dead-lettered/);

    const expected = batchEtl(readFileSync(SAMPLE, 'utf8').split('\n'), { k: 5, ranges: SYS_RANGES, metadata: readFileSync(METADATA, 'utf8') });
    const actual = await readRows(out);
    expect(expected.bad).toBe(0);
    expect(rounded(actual)).toEqual(rounded(expected.rows));
    // Rows leave in input order (one message's fields all arrive before the next message's).
    expect(actual.map((row) => row.msgId)).toEqual(expected.rows.map((row) => row.msgId));
    // What the sample exercises: out-of-range values, a few interpolations, annotation of every row.
    expect(actual.filter((row) => (row.interpolated as string[]).length > 0).length).toBeGreaterThanOrEqual(5);
    expect(actual.filter((row) => row.light === null).length).toBeGreaterThan(500);
    expect(actual.every((row) => typeof row.location === 'string' && typeof row.type === 'string')).toBe(true);
  });

  it('without metadata rows are unannotated; k=0 turns interpolation off', async () => {
    const out = join(dir, 'rows-k0.jsonl');
    const r = await sluice(['run', APP, '--in', `senml=${SAMPLE}`, '--out', `rows=${out}`, '--param', 'k=0', '--quiet']);
    expect(r.code).toBe(0);
    const expected = batchEtl(readFileSync(SAMPLE, 'utf8').split('\n'), { k: 0, ranges: SYS_RANGES });
    const actual = await readRows(out);
    expect(rounded(actual)).toEqual(rounded(expected.rows));
    expect(actual.every((row) => row.location === null && row.type === null && (row.interpolated as string[]).length === 0)).toBe(true);
  });

  it('a seeded stream with many gaps, custom ranges and k=3 equals the batch ETL; bad lines are dead letters', async () => {
    const known = readFileSync(METADATA, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.slice(0, l.indexOf(':')));
    const { lines, bad } = syntheticLines(20260422, 3000, known);
    const input = join(dir, 'synthetic.csv');
    const out = join(dir, 'rows-synthetic.jsonl');
    const dead = join(dir, 'dead.jsonl');
    await writeFile(input, lines.join('\n') + '\n');
    const ranges = { temperature: [-10, 40], humidity: [10, 90], light: [0, 20000], dust: [200, 5000], airquality_raw: [20, 300] } as Record<string, [number, number]>;
    const rangeParam = Object.entries(ranges).map(([f, [lo, hi]]) => `${f}:${lo}:${hi}`).join(',');

    const r = await sluice(['run', APP, '--in', `senml=${input}`, '--out', `rows=${out}`, '--out', `dead-letter=${dead}`,
      '--param', `metadata=${METADATA}`, '--param', 'k=3', '--param', `ranges=${rangeParam}`, '--quiet']);
    expect(r.code).toBe(0);

    const expected = batchEtl(lines, { k: 3, ranges, metadata: readFileSync(METADATA, 'utf8') });
    const actual = await readRows(out);
    expect(expected.bad).toBe(bad);
    expect(rounded(actual)).toEqual(rounded(expected.rows));
    expect((await readRows(dead)).length).toBe(bad);
    // The stream does exercise each path: interpolated values, values left null, unknown sensors.
    const interpolations = actual.reduce((n, row) => n + (row.interpolated as string[]).length, 0);
    expect(interpolations).toBeGreaterThan(1000);
    expect(actual.some((row) => FIELDS.some((f) => row[f] === null))).toBe(true);
    expect(actual.some((row) => row.location === null)).toBe(true);
    expect(bad).toBeGreaterThan(0);
  });

  it('fails to start, saying why, when the lookup file or a parameter is wrong', async () => {
    const missing = join(dir, 'no-such-metadata.txt');
    const r1 = await sluice(['run', APP, '--in', `senml=${SAMPLE}`, '--out', `rows=${join(dir, 'x.jsonl')}`, '--param', `metadata=${missing}`]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain(`cannot read the lookup table --param metadata=${missing}`);
    const r2 = await sluice(['run', APP, '--in', `senml=${SAMPLE}`, '--out', `rows=${join(dir, 'x.jsonl')}`, '--param', 'ranges=temperature:40:-10']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('--param ranges entry "temperature:40:-10"');
  });
});
