/**
 * The RIoTBench ETL dataflow on the SYS ("Sense Your City") sensor stream: parse SenML, range
 * filter, interpolate missing values, join each message's fields back into one row, annotate
 * it from a lookup table, output. After Shukla, Chaturvedi and Simmhan, "RIoTBench" (CCPE 2017).
 *
 *   sluice run examples/riot-etl.ts --in senml=SYS_sample_data_senml.csv --out rows=rows.jsonl \
 *     --param metadata=city-metadata.txt [--param k=5] [--param ranges=temperature:-12.5:43.1,...]
 *
 * Input, one message per line: `<ts ms>,<SenML JSON>` in the pre-RFC draft form, numbers as text:
 *   1422748800000,{"e":[{"u":"string","n":"source","sv":"ci4lr75sl000802ypo4qrcjda23"},{"v":"8","u":"far","n":"temperature"},...],"bt":1422748800000}
 * Output, one JSON line per message, fields in the order of RIoTBench's annotated SYS schema:
 *   {"msgId":"1422748800000/ci4lr75sl000802ypo4qrcjda23","timestamp":"2015-02-01T00:00:00.000Z",
 *    "source":"ci4lr75sl000802ypo4qrcjda23","longitude":6.1668213,"latitude":46.1927629,"temperature":8,
 *    "humidity":53.7,"light":null,"dust":411.02,"airquality_raw":140,"location":"...","type":"...","interpolated":[]}
 *
 * Steps (one operator each, named as below):
 * - `senml` parse: the sensor id is the `source` entry; longitude and latitude are carried as
 *   metadata; the observed fields are temperature, humidity, light, dust and airquality_raw. A
 *   field that is absent or not a number counts as missing (null). A line that is not
 *   `<ts>,<SenML>` or has no `source` goes to the dead-letter stream. The message id is
 *   `<ts>/<source>`: it needs no counter, so it is the same wherever the parse runs.
 * - `split`: one event per (message, observed field), as RIoTBench's SenMLParse bolt emits.
 * - `range-filter`: a value outside its valid range becomes missing. `--param ranges` uses
 *   RIoTBench's FILTER.RANGE_FILTER.VALID_RANGE syntax; the default is its SYS setting.
 * - `interpolate`: per sensor and field, a missing value becomes the mean of the last `k` valid
 *   values (RIoTBench's STATISTICS.INTERPOLATION.WINDOW_SIZE, default 5; 0 turns it off) and
 *   its field is listed in `interpolated`. With no valid value yet it stays null (RIoTBench
 *   emits 0.0 there, which reads as a real reading). Doubles, not Java floats.
 * - `join`: keyed by message id, a row is emitted as soon as all five fields have arrived. Every
 *   message yields exactly five events (missing ones as null) and one key's events arrive in
 *   order, so a count is exact: rows leave at once and their state is freed, where a window
 *   would hold every row back until the watermark passed and keep a window of state per message.
 * - `annotate`: `location` and `type` from the lookup file `--param metadata=PATH`, lines
 *   `<sensor id>:<location>,<type>` (RIoTBench's city-metadata.txt). The file is read when the
 *   graph is built, so it must exist on the node that builds it. Without the parameter, or for
 *   a sensor not in the file, both are null: `sluice build` needs no parameters, and rows are
 *   still worth having unannotated. A path given but unreadable fails the start with the reason.
 */
import { readFileSync } from 'node:fs';
import { defineApp } from 'sluice';

/** The fields the ETL filters and interpolates, in schema order (RIoTBench's INTERPOLATION.USE_MSG_FIELD). */
export const OBSERVED = ['temperature', 'humidity', 'light', 'dust', 'airquality_raw'] as const;
export type Field = (typeof OBSERVED)[number];

/** RIoTBench's valid ranges for the SYS data (tasks_CITY.properties, FILTER.RANGE_FILTER.VALID_RANGE). */
export const SYS_RANGES = 'temperature:-12.5:43.1,humidity:10.7:95.2,light:1345:26282,dust:186.61:5188.21,airquality_raw:17:363';

export interface Message {
  msgId: string;
  ts: number;
  source: string;
  longitude: number | null;
  latitude: number | null;
  values: Record<Field, number | null>;
}

export interface Observation {
  msgId: string;
  ts: number;
  source: string;
  longitude: number | null;
  latitude: number | null;
  field: Field;
  value: number | null;
  interpolated: boolean;
}

export type Row = {
  msgId: string;
  timestamp: string;
  source: string;
  longitude: number | null;
  latitude: number | null;
} & Record<Field, number | null> & {
  location: string | null;
  type: string | null;
  interpolated: Field[];
};

interface PartialRow { first: Observation; values: Record<Field, number | null>; interpolated: Set<Field>; got: number }

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A SenML value as a number: JSON numbers as they are, decimal text parsed; anything else null. */
function numeric(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMBER.test(v.trim())) return Number(v.trim());
  return null;
}

/** Parses `<ts>,<SenML JSON>`; throws with the reason (the line then goes to the dead-letter stream). */
export function parseSenmlLine(line: string): Message {
  const comma = line.indexOf(',');
  if (comma < 0) throw new Error('expected "<ts>,<SenML JSON>"');
  const ts = Number(line.slice(0, comma).trim());
  if (!Number.isSafeInteger(ts)) throw new Error(`"${line.slice(0, Math.min(comma, 40))}" is not a timestamp in ms`);
  let pack: unknown;
  try { pack = JSON.parse(line.slice(comma + 1)); } catch (err) { throw new Error(`not JSON after the timestamp (${(err as Error).message})`); }
  const entries = (pack as { e?: unknown } | null)?.e;
  if (!Array.isArray(entries)) throw new Error('no "e" array of SenML entries');
  const values: Record<Field, number | null> = { temperature: null, humidity: null, light: null, dust: null, airquality_raw: null };
  let source: string | undefined;
  let longitude: number | null = null;
  let latitude: number | null = null;
  for (const e of entries as { n?: unknown; v?: unknown; sv?: unknown }[]) {
    if (e === null || typeof e !== 'object') continue;
    const value = e.v ?? e.sv;
    switch (e.n) {
      case 'source': if (typeof value === 'string' && value !== '') source = value; break;
      case 'longitude': longitude = numeric(value); break;
      case 'latitude': latitude = numeric(value); break;
      default: if ((OBSERVED as readonly unknown[]).includes(e.n)) values[e.n as Field] = numeric(value);
    }
  }
  if (source === undefined) throw new Error('no "source" entry with the sensor id');
  return { msgId: `${ts}/${source}`, ts, source, longitude, latitude, values };
}

/** Parses RIoTBench's `field:min:max,...` range list; throws naming the bad entry. */
export function parseRanges(text: string): ReadonlyMap<Field, readonly [number, number]> {
  const ranges = new Map<Field, readonly [number, number]>();
  for (const entry of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [field, lo, hi, ...rest] = entry.split(':');
    const min = Number(lo);
    const max = Number(hi);
    if (rest.length > 0 || !(OBSERVED as readonly string[]).includes(field ?? '') || !NUMBER.test(lo ?? '') || !NUMBER.test(hi ?? '') || min > max) {
      throw new Error(`riot-etl: --param ranges entry "${entry}" is not <field>:<min>:<max> with min <= max and field one of ${OBSERVED.join(', ')}; ` +
        `fix: e.g. --param ranges=${SYS_RANGES}`);
    }
    ranges.set(field as Field, [min, max]);
  }
  return ranges;
}

/** Reads a `<sensor id>:<location>,<type>` lookup file; throws with the path and line on any problem. */
export function readLookup(path: string): ReadonlyMap<string, { location: string; type: string | null }> {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) {
    throw new Error(`riot-etl: cannot read the lookup table --param metadata=${path} (${(err as Error).message}); ` +
      'fix: pass a file of "<sensor id>:<location>,<type>" lines such as RIoTBench\'s city-metadata.txt, or omit the parameter for no annotation');
  }
  const lookup = new Map<string, { location: string; type: string | null }>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`riot-etl: ${path} line ${i + 1} is not "<sensor id>:<location>,<type>": "${line.slice(0, 80)}"`);
    const annotation = line.slice(colon + 1);
    const comma = annotation.indexOf(',');
    lookup.set(line.slice(0, colon), comma < 0 ? { location: annotation, type: null } : { location: annotation.slice(0, comma), type: annotation.slice(comma + 1) });
  });
  return lookup;
}

export default defineApp('riot-etl', (app, params) => {
  const ranges = parseRanges(params.string('ranges', SYS_RANGES));
  const k = params.number('k', 5);
  if (!Number.isInteger(k) || k < 0) throw new Error(`riot-etl: --param k=${k} must be a whole number >= 0 (0 turns interpolation off)`);
  const metadata = params.string('metadata', '');
  const lookup = metadata === '' ? new Map<string, { location: string; type: string | null }>() : readLookup(metadata);

  app.source<Message>('senml', { parse: parseSenmlLine, eventTime: (m) => m.ts })
    .flatMap((m) => OBSERVED.map((field): Observation => ({
      msgId: m.msgId, ts: m.ts, source: m.source, longitude: m.longitude, latitude: m.latitude,
      field, value: m.values[field], interpolated: false,
    })))
    .name('split')
    .map((o) => {
      const r = ranges.get(o.field);
      if (r !== undefined && o.value !== null && (o.value < r[0] || o.value > r[1])) o.value = null;
      return o;
    })
    .name('range-filter')
    .keyBy((o) => `${o.source}\u0000${o.field}`)
    .process<number[], Observation>({
      onEvent(o, ctx) {
        const recent = ctx.state() ?? [];
        if (o.value !== null) {
          if (k === 0) { ctx.emit(o); return; }
          recent.push(o.value);
          if (recent.length > k) recent.shift();
          ctx.setState(recent);
        } else if (recent.length > 0) {
          let sum = 0;
          for (const v of recent) sum += v;
          o.value = sum / recent.length;
          o.interpolated = true;
        }
        ctx.emit(o);
      },
    })
    .name('interpolate')
    .keyBy((o) => o.msgId)
    .process<PartialRow, Row>({
      onEvent(o, ctx) {
        let row = ctx.state();
        if (row === undefined) {
          row = { first: o, values: { temperature: null, humidity: null, light: null, dust: null, airquality_raw: null }, interpolated: new Set(), got: 0 };
          ctx.setState(row);
        }
        row.values[o.field] = o.value;
        if (o.interpolated) row.interpolated.add(o.field);
        if (++row.got < OBSERVED.length) return;
        ctx.setState(undefined);
        const f = row.first;
        ctx.emit({
          msgId: f.msgId, timestamp: new Date(f.ts).toISOString(), source: f.source, longitude: f.longitude, latitude: f.latitude,
          ...row.values, location: null, type: null, interpolated: OBSERVED.filter((x) => row.interpolated.has(x)),
        });
      },
    })
    .name('join')
    .map((row) => {
      const a = lookup.get(row.source);
      if (a !== undefined) { row.location = a.location; row.type = a.type; }
      return row;
    })
    .name('annotate')
    .sink('rows');
});
