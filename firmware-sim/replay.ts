/**
 * Parses the CSV datasets a fleet can replay into per-device rows: the labelled WSN data
 * (wsn-labelled), CityBench Aarhus traffic and weather, and RIoTBench SenML lines (SYS, TAXI).
 * The format is recognised from the first line. Pure: `loadReplay` in replay-file.ts reads files.
 */
import { ConfigError } from '../shared/errors.ts';
import type { Reading } from './models/index.ts';
import { safeId } from './encode.ts';

/** One replayed reading: original event time (ms), fields, and a ground-truth label if any. */
export interface ReplayRow {
  readonly time: number;
  readonly reading: Reading;
  readonly label?: string;
}

/** One device of a dataset (one sensor id), rows sorted by time. */
export interface ReplayDevice {
  readonly id: string;
  readonly rows: readonly ReplayRow[];
}

/** A parsed dataset. `model` names it in topics: `<root>/<model>/<device>`. */
export interface ReplayData {
  readonly kind: 'wsn-labelled' | 'citybench-traffic' | 'citybench-weather' | 'riotbench';
  readonly model: string;
  readonly start: number;
  readonly devices: readonly ReplayDevice[];
  /** Field units for SenML payloads. */
  readonly units: Readonly<Record<string, string>>;
}

/** wsn-labelled has no absolute time: readings are 5 s apart from 9 May 2010 (SOURCE.txt). */
const WSN_START = Date.UTC(2010, 4, 9);
const WSN_PERIOD_MS = 5000;

/**
 * Parses dataset text. `where` names the source (a file path) in errors.
 *
 * @example
 * const data = parseReplay(readFileSync('fixtures/wsn-labelled-slice.csv', 'utf8'), 'wsn slice');
 */
export function parseReplay(text: string, where = 'replay data'): ReplayData {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = lines[0] ?? '';
  const byDevice = new Map<string, ReplayRow[]>();
  const add = (id: string, row: ReplayRow): void => {
    const key = safeId(id);
    let rows = byDevice.get(key);
    if (rows === undefined) byDevice.set(key, (rows = []));
    rows.push(row);
  };
  let kind: ReplayData['kind'];
  let model: string;
  let units: Record<string, string>;
  if (/^\d+,\{/.test(head)) {
    kind = 'riotbench';
    model = 'riot';
    units = {};
    lines.forEach((line, i) => parseRiotLine(line, `${where}:${i + 1}`, add, units));
  } else {
    const cols = head.split(',').map((c) => c.trim());
    const rows = lines.slice(1).map((l) => l.split(','));
    const col = (name: string): number => cols.indexOf(name);
    if (col('mote_id') >= 0 && col('label') >= 0) {
      kind = 'wsn-labelled';
      model = 'wsn';
      units = { temp: 'Cel', hum: '%RH' };
      rows.forEach((r, i) => {
        const reading = num(r[col('reading')], where, i + 2, 'reading');
        const label = r[col('label')]?.trim();
        add(`mote-${r[col('mote_id')] ?? '?'}`, {
          time: WSN_START + (reading - 1) * WSN_PERIOD_MS,
          reading: { temp: num(r[col('temperature')], where, i + 2, 'temperature'), hum: num(r[col('humidity')], where, i + 2, 'humidity') },
          ...(label !== undefined && label !== '0' ? { label: 'anomaly' } : {}),
        });
      });
    } else if (col('REPORT_ID') >= 0 && col('vehicleCount') >= 0) {
      kind = 'citybench-traffic';
      model = 'traffic';
      units = { count: 'count', speed: 'km/h', travel: 's' };
      rows.forEach((r, i) => add(`segment-${r[col('REPORT_ID')] ?? '?'}`, {
        time: time(r[col('TIMESTAMP')], where, i + 2),
        reading: {
          count: num(r[col('vehicleCount')], where, i + 2, 'vehicleCount'),
          speed: num(r[col('avgSpeed')], where, i + 2, 'avgSpeed'),
          travel: num(r[col('avgMeasuredTime')], where, i + 2, 'avgMeasuredTime'),
          status: r[col('status')] ?? '',
        },
      }));
    } else if (col('tempm') >= 0 && col('TIMESTAMP') >= 0) {
      kind = 'citybench-weather';
      model = 'weather';
      units = { temp: 'Cel', hum: '%RH', wind: 'km/h' };
      rows.forEach((r, i) => add('aarhus-weather', {
        time: time(r[col('TIMESTAMP')], where, i + 2),
        reading: { temp: num(r[col('tempm')], where, i + 2, 'tempm'), hum: num(r[col('hum')], where, i + 2, 'hum'), wind: num(r[col('wspdm')], where, i + 2, 'wspdm') },
      }));
    } else {
      throw new ConfigError('SIM_REPLAY_FORMAT', 'cannot tell which dataset this is from its first line', {
        where, fix: 'replay wsn-labelled CSV, CityBench Aarhus traffic/weather CSV, or RIoTBench "<ts>,<SenML>" lines',
      });
    }
  }
  const devices = [...byDevice].map(([id, rows]) => ({ id, rows: rows.sort((a, b) => a.time - b.time) }));
  if (devices.length === 0) {
    throw new ConfigError('SIM_REPLAY_EMPTY', 'the dataset has no rows', { where, fix: 'pass a file with data rows' });
  }
  const start = Math.min(...devices.map((d) => d.rows[0]?.time ?? Infinity));
  return Object.freeze({ kind, model, start, devices, units: Object.freeze(units) });
}

function num(cell: string | undefined, where: string, line: number, name: string): number {
  const n = Number(cell);
  if (cell === undefined || cell.trim() === '' || !Number.isFinite(n)) {
    throw new ConfigError('SIM_REPLAY_ROW', `column "${name}" is not a number: "${cell ?? ''}"`, {
      where: `${where}:${line}`, fix: 'fix or remove that row',
    });
  }
  return n;
}

function time(cell: string | undefined, where: string, line: number): number {
  // CityBench timestamps carry no zone; read them as UTC so replays do not depend on TZ.
  const t = Date.parse(`${cell ?? ''}Z`);
  if (!Number.isFinite(t)) {
    throw new ConfigError('SIM_REPLAY_ROW', `bad TIMESTAMP "${cell ?? ''}"`, { where: `${where}:${line}`, fix: 'use ISO times like 2014-08-01T07:50:00' });
  }
  return t;
}

function parseRiotLine(line: string, where: string, add: (id: string, row: ReplayRow) => void, units: Record<string, string>): void {
  const comma = line.indexOf(',');
  const ts = Number(line.slice(0, comma));
  let pack: unknown;
  try {
    pack = JSON.parse(line.slice(comma + 1));
  } catch {
    pack = undefined;
  }
  const entries = (pack as { e?: unknown } | undefined)?.e;
  if (!Number.isFinite(ts) || !Array.isArray(entries)) {
    throw new ConfigError('SIM_REPLAY_ROW', 'expected "<ts_ms>,<SenML JSON with an e array>"', { where, fix: 'fix or remove that line' });
  }
  let id: string | undefined;
  const reading: Record<string, number | string> = {};
  for (const e of entries as Array<Record<string, unknown>>) {
    const name = typeof e.n === 'string' ? e.n : undefined;
    if (name === undefined) continue;
    if ((name === 'source' || name === 'taxi_identifier') && typeof e.sv === 'string') {
      id = e.sv;
      continue;
    }
    const raw = e.v ?? e.sv;
    const n = Number(raw);
    reading[name] = e.v !== undefined && Number.isFinite(n) ? n : String(raw);
    if (typeof e.u === 'string' && e.v !== undefined) units[name] = e.u;
  }
  if (id === undefined) throw new ConfigError('SIM_REPLAY_ROW', 'no "source" or "taxi_identifier" entry', { where, fix: 'fix or remove that line' });
  add(id, { time: ts, reading });
}
