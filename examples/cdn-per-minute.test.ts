import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundle, ROOT, sluice } from '../test/support/bundle.ts';

const FIXTURE = join(ROOT, 'test/fixtures/cdn/apache_logs.log');
const APP = join(ROOT, 'examples/cdn-per-minute.ts');

interface Row { client: string; windowStart: string; windowEnd: string; requests: number; bytes: number; revision?: number }

/**
 * The batch computation, written independently of the app: split each line on spaces and
 * brackets, read the timestamp with Date.parse, and group by client and minute.
 */
function batch(lines: readonly string[]): Row[] {
  const groups = new Map<string, Row>();
  for (const line of lines) {
    const client = line.slice(0, line.indexOf(' '));
    const stamp = line.slice(line.indexOf('[') + 1, line.indexOf(']')); // 17/May/2015:10:05:03 +0000
    const [date, h, m, s] = stamp.split(' ')[0]!.split(':');
    const [day, mon, year] = date!.split('/');
    const time = Date.parse(`${day} ${mon} ${year} ${h}:${m}:${s} GMT`);
    const afterRequest = line.slice(line.indexOf('"', line.indexOf('"') + 1) + 2).split(' ');
    const bytes = afterRequest[1] === '-' ? 0 : Number(afterRequest[1]);
    const start = Math.floor(time / 60_000) * 60_000;
    const id = `${client} ${start}`;
    const row = groups.get(id) ?? { client, windowStart: new Date(start).toISOString(), windowEnd: new Date(start + 60_000).toISOString(), requests: 0, bytes: 0 };
    row.requests++;
    row.bytes += bytes;
    groups.set(id, row);
  }
  return sortRows([...groups.values()]);
}

const sortRows = (rows: Row[]) => rows.sort((a, b) => a.windowStart.localeCompare(b.windowStart) || a.client.localeCompare(b.client));
const readJsonLines = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

/** The newest revision of each (client, window), without the revision field. */
function finalRows(rows: Row[]): Row[] {
  const last = new Map<string, Row>();
  for (const r of rows) {
    const id = `${r.client} ${r.windowStart}`;
    if ((last.get(id)?.revision ?? -1) < (r.revision ?? 0)) last.set(id, r);
  }
  return sortRows([...last.values()].map(({ revision: _r, ...row }) => row));
}

let dir: string;
let lines: string[];
beforeAll(() => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cdn-'));
  lines = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCdn(input: string, params: string[]) {
  const results = join(dir, 'results.jsonl');
  const late = join(dir, 'late.jsonl');
  const r = await sluice(['run', APP, '--in', `logs=${input}`, '--out', `results=${results}`, '--out', `late=${late}`, ...params.flatMap((p) => ['--param', p])]);
  expect(r.code, r.stderr).toBe(0);
  return { results: readJsonLines<Row>(results), late: readJsonLines<{ client: string; time: number; status: number; bytes: number }>(late) };
}

describe('examples/cdn-per-minute over 10,000 real log lines (out of order by up to 59 s)', () => {
  it('with maxDelay >= 59 s the results equal the batch computation exactly', async () => {
    const { results, late } = await runCdn(FIXTURE, ['maxDelay=60s']);
    expect(late).toEqual([]);
    expect(sortRows(results)).toEqual(batch(lines));
  });

  it('with maxDelay 0, results plus the late side output still account for every line', async () => {
    const { results, late } = await runCdn(FIXTURE, ['maxDelay=0']);
    expect(results.reduce((n, r) => n + r.requests, 0) + late.length).toBe(lines.length);
  });

  describe('on the same lines shifted by 30 s, so that bursts straddle minute boundaries', () => {
    let shifted: string;
    let shiftedLines: string[];
    beforeAll(() => {
      // Rewrite every timestamp 30 s later; the disorder between lines is unchanged.
      shiftedLines = lines.map((l) => l.replace(/\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\]/, (_m, d, mon, y, h, mi, s) => {
        const t = new Date(Date.parse(`${d} ${mon} ${y} ${h}:${mi}:${s} GMT`) + 30_000);
        const p = (n: number) => String(n).padStart(2, '0');
        return `[${p(t.getUTCDate())}/${mon}/${t.getUTCFullYear()}:${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0000]`;
      }));
      shifted = join(dir, 'shifted.log');
      writeFileSync(shifted, `${shiftedLines.join('\n')}\n`);
    });

    it('a small maxDelay sends lines to the late side output; results equal the batch over the on-time lines', async () => {
      const { results, late } = await runCdn(shifted, ['maxDelay=5s']);
      expect(late.length).toBeGreaterThan(0);
      expect(results.reduce((n, r) => n + r.requests, 0) + late.length).toBe(shiftedLines.length);
      // Remove exactly the late lines (matched by client, time, status and bytes) and batch the rest.
      const lateKeys = late.map((l) => `${l.client} ${l.time} ${l.status} ${l.bytes}`);
      const onTime = shiftedLines.filter((l) => {
        const stamp = /\[(\S+) \+0000\]/.exec(l)![1]!.replace(':', ' ');
        const [status, bytes] = /" (\d{3}) (\d+|-)/.exec(l)!.slice(1);
        const key = `${l.slice(0, l.indexOf(' '))} ${Date.parse(`${stamp.replace(/\//g, ' ')} GMT`)} ${status} ${bytes === '-' ? 0 : bytes}`;
        const i = lateKeys.indexOf(key);
        if (i < 0) return true;
        lateKeys.splice(i, 1);
        return false;
      });
      expect(lateKeys).toEqual([]);
      expect(sortRows(results)).toEqual(batch(onTime));
    });

    it('allowed lateness covering the disorder: late lines update their windows, the newest revisions equal the batch', async () => {
      const { results, late } = await runCdn(shifted, ['maxDelay=5s', 'lateness=1m']);
      expect(late).toEqual([]);
      expect(results.some((r) => (r.revision ?? 0) > 0)).toBe(true);
      expect(finalRows(results)).toEqual(batch(shiftedLines));
    });
  });
});
