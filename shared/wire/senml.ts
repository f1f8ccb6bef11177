/**
 * SenML JSON (RFC 8428): resolve a pack into self-contained records, and encode records
 * back into a compact pack. Pure: no `node:` module, no clock of its own (callers pass `now`).
 *
 * Times: SenML counts seconds; every record here counts milliseconds since the epoch.
 */

/** Which value field a record carried (`s` when it carried only a sum). */
export type SenmlKind = 'v' | 'vs' | 'vb' | 'vd' | 's';

/** One resolved SenML record (RFC 8428 section 4.6): no base fields left, absolute time. */
export interface SenmlRecord {
  readonly name: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly unit?: string;
  /** `v` and `s` records: a number; `vs` and `vd` (base64url text): a string; `vb`: a boolean. */
  readonly value: number | string | boolean;
  readonly kind: SenmlKind;
  readonly sum?: number;
  /** Milliseconds within which the sensor promises a newer value (the `ut` field). */
  readonly updateTime?: number;
}

/** The outcome of resolving a pack: records, or the first reason it was rejected. */
export type SenmlResult =
  | { readonly ok: true; readonly records: SenmlRecord[] }
  | { readonly ok: false; readonly reason: string };

/** The highest SenML version this code understands (RFC 8428 section 4.4). */
export const SENML_VERSION = 10;

/** Times below 2^28 s are relative to "now" (RFC 8428 section 4.5.3). */
const RELATIVE_TIME_LIMIT = 2 ** 28;

/** RFC 8428 section 4.5.1: first char alphanumeric, then alphanumerics and `-:._/`. */
const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9\-:._/]*$/;
const BASE64URL_RULE = /^[A-Za-z0-9\-_]*$/;

const KNOWN_FIELDS = new Set([
  'bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut',
]);

interface BaseState {
  name: string;
  time: number;
  unit: string | undefined;
  value: number | undefined;
  sum: number | undefined;
  version: number | undefined;
}

/**
 * Validates a SenML JSON pack (already parsed from JSON) and resolves it into records:
 * base name + name, base time + time (times below 2^28 s are relative to `now`), base unit,
 * base value and base sum applied, one value per record. Never throws.
 *
 * @example
 * const r = resolveSenml([{ bn: 'urn:dev:ow:10e2073a01080063:', n: 'temp', u: 'Cel', v: 23.1 }], Date.now());
 * if (r.ok) console.log(r.records[0]?.name); // 'urn:dev:ow:10e2073a01080063:temp'
 */
export function resolveSenml(pack: unknown, now: number): SenmlResult {
  if (!Array.isArray(pack)) return fail('a SenML pack must be a JSON array of records');
  if (!Number.isFinite(now)) return fail('"now" must be a finite number of milliseconds');
  const base: BaseState = {
    name: '', time: 0, unit: undefined, value: undefined, sum: undefined, version: undefined,
  };
  const records: SenmlRecord[] = [];
  for (let i = 0; i < pack.length; i++) {
    const raw: unknown = pack[i];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return fail(`record ${i}: must be a JSON object`);
    }
    const rec = raw as Record<string, unknown>;
    const bad = applyBase(rec, base) ?? checkFields(rec);
    if (bad !== undefined) return fail(`record ${i}: ${bad}`);
    const resolved = resolveOne(rec, base, now);
    if (typeof resolved === 'string') return fail(`record ${i}: ${resolved}`);
    records.push(resolved);
  }
  return { ok: true, records };
}

function fail(reason: string): SenmlResult {
  return { ok: false, reason };
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Base fields apply to this record and every later one until replaced (section 4.1). */
function applyBase(rec: Record<string, unknown>, base: BaseState): string | undefined {
  if ('bn' in rec) {
    if (typeof rec.bn !== 'string') return '"bn" (base name) must be a string';
    base.name = rec.bn;
  }
  if ('bt' in rec) {
    if (!isNum(rec.bt)) return '"bt" (base time) must be a finite number';
    base.time = rec.bt;
  }
  if ('bu' in rec) {
    if (typeof rec.bu !== 'string') return '"bu" (base unit) must be a string';
    base.unit = rec.bu;
  }
  if ('bv' in rec) {
    if (!isNum(rec.bv)) return '"bv" (base value) must be a finite number';
    base.value = rec.bv;
  }
  if ('bs' in rec) {
    if (!isNum(rec.bs)) return '"bs" (base sum) must be a finite number';
    base.sum = rec.bs;
  }
  if ('bver' in rec) {
    if (!isNum(rec.bver) || !Number.isInteger(rec.bver) || rec.bver < 1) {
      return '"bver" (base version) must be a positive integer';
    }
    if (rec.bver > SENML_VERSION) {
      return `"bver" ${rec.bver} is newer than the supported SenML version ${SENML_VERSION}`;
    }
    base.version = rec.bver;
  }
  return undefined;
}

function checkFields(rec: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(rec)) {
    // Section 4.4: labels ending in "_" must be understood, or the pack is rejected.
    if (key.endsWith('_') && !KNOWN_FIELDS.has(key)) {
      return `must-understand field "${key}" is not supported`;
    }
  }
  if ('n' in rec && typeof rec.n !== 'string') return '"n" (name) must be a string';
  if ('u' in rec && typeof rec.u !== 'string') return '"u" (unit) must be a string';
  if ('t' in rec && !isNum(rec.t)) return '"t" (time) must be a finite number';
  if ('ut' in rec && (!isNum(rec.ut) || rec.ut < 0)) {
    return '"ut" (update time) must be a non-negative number';
  }
  if ('v' in rec && !isNum(rec.v)) return '"v" (value) must be a finite number';
  if ('vs' in rec && typeof rec.vs !== 'string') return '"vs" (string value) must be a string';
  if ('vb' in rec && typeof rec.vb !== 'boolean') return '"vb" (boolean value) must be true or false';
  if ('vd' in rec && (typeof rec.vd !== 'string' || !BASE64URL_RULE.test(rec.vd))) {
    return '"vd" (data value) must be base64url text without padding';
  }
  if ('s' in rec && !isNum(rec.s)) return '"s" (sum) must be a finite number';
  return undefined;
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

function resolveOne(rec: Record<string, unknown>, base: BaseState, now: number): SenmlRecord | string {
  const name = base.name + (typeof rec.n === 'string' ? rec.n : '');
  if (name === '') return 'the resolved name is empty; give "n" or "bn"';
  if (!NAME_RULE.test(name)) {
    return `resolved name "${name}" breaks RFC 8428 4.5.1 (start with A-Z a-z 0-9; then only A-Z a-z 0-9 - : . / _)`;
  }
  const t = isNum(rec.t) ? rec.t : 0;
  // Convert each part to ms rounded to a microsecond before adding, so that seconds-to-ms
  // float noise does not leak out (1.276020076001e9 s must give exactly 1276020076001 ms).
  const offset = toMs(base.time) + toMs(t);
  const time = base.time + t < RELATIVE_TIME_LIMIT ? now + offset : offset;

  const present = (['v', 'vs', 'vb', 'vd'] as const).filter((k) => k in rec);
  if (present.length > 1) return `more than one value field (${present.join(', ')}); keep exactly one`;
  let sum: number | undefined;
  if ('s' in rec) sum = (rec.s as number) + (base.sum ?? 0);
  else if (base.sum !== undefined && present.length === 0) sum = base.sum;

  let kind: SenmlKind;
  let value: number | string | boolean;
  const field = present[0];
  if (field === 'v') {
    kind = 'v';
    value = (rec.v as number) + (base.value ?? 0);
  } else if (field !== undefined) {
    kind = field;
    value = rec[field] as string | boolean;
  } else if (sum !== undefined) {
    kind = 's';
    value = sum;
  } else if (base.value !== undefined) {
    kind = 'v';
    value = base.value;
  } else {
    return 'no value: give one of "v", "vs", "vb", "vd", or a sum "s"';
  }

  const unit = typeof rec.u === 'string' ? rec.u : base.unit;
  const out: { -readonly [K in keyof SenmlRecord]: SenmlRecord[K] } = { name, time, value, kind };
  if (unit !== undefined && unit !== '') out.unit = unit;
  if (sum !== undefined) out.sum = sum;
  if (isNum(rec.ut)) out.updateTime = rec.ut * 1000;
  return out;
}

/** What `encodeSenml` factors out into the first record. */
export interface SenmlBase {
  /**
   * Base name; defaults to (and, when it is not a prefix of every name, falls back to) the
   * longest common prefix of the names that ends in `:` or `/`.
   */
  readonly name?: string;
  /** Base time in ms since the epoch; defaults to the first record's time. */
  readonly time?: number;
}

/** A record as it appears in a SenML JSON pack. */
export type SenmlJsonRecord = Record<string, string | number | boolean>;

/**
 * Encodes resolved records as a compact SenML JSON pack: the first record carries `bn` and
 * `bt` (and `bu` when every record has the same unit); the rest carry only what differs.
 * `resolveSenml(encodeSenml(rs), now)` gives `rs` back (times must be absolute, i.e. after 1978).
 *
 * @example
 * const pack = encodeSenml([{ name: 'plug/1:w', time: 1_700_000_000_000, value: 12.5, kind: 'v' }]);
 * JSON.stringify(pack); // '[{"bn":"plug/1:","bt":1700000000,"n":"w","v":12.5}]'
 */
export function encodeSenml(records: readonly SenmlRecord[], base: SenmlBase = {}): SenmlJsonRecord[] {
  const first = records[0];
  if (first === undefined) return [];
  const wanted = base.name;
  const bn = wanted !== undefined && records.every((r) => r.name.startsWith(wanted))
    ? wanted
    : commonPrefix(records);
  const btMs = base.time ?? first.time;
  const bt = btMs / 1000;
  const unit = first.unit;
  const sharedUnit = unit !== undefined && records.every((r) => r.unit === unit) ? unit : undefined;
  const pack: SenmlJsonRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as SenmlRecord;
    const out: SenmlJsonRecord = {};
    if (i === 0) {
      if (bn !== '') out.bn = bn;
      out.bt = bt;
      if (sharedUnit !== undefined) out.bu = sharedUnit;
    }
    const n = r.name.slice(bn.length);
    if (n !== '') out.n = n;
    if (sharedUnit === undefined && r.unit !== undefined) out.u = r.unit;
    const dt = (r.time - btMs) / 1000;
    if (dt !== 0) out.t = dt;
    if (r.kind !== 's') out[r.kind] = r.value;
    if (r.sum !== undefined) out.s = r.sum;
    if (r.updateTime !== undefined) out.ut = r.updateTime / 1000;
    pack.push(out);
  }
  return pack;
}

function commonPrefix(records: readonly SenmlRecord[]): string {
  let prefix = records[0]?.name ?? '';
  for (const r of records) {
    let i = 0;
    while (i < prefix.length && i < r.name.length && prefix[i] === r.name[i]) i++;
    prefix = prefix.slice(0, i);
  }
  // Cut back to a separator so every "n" stays a readable suffix.
  const cut = Math.max(prefix.lastIndexOf(':'), prefix.lastIndexOf('/'));
  return cut < 0 ? '' : prefix.slice(0, cut + 1);
}
