// Input: raw records from a binding (text lines, or values already parsed). Output: parsed,
// validated events stamped with event time; watermarks trailing the newest event time by the
// declared bounded disorder. State: the newest event time and, for CSV, the header.
// Placement: where its devices or files are.
import type { SourceConfig } from '../graph/index.ts';
import { resolveSenml } from '../wire/index.ts';
import { csvValue, splitCsvLine } from './csv.ts';
import { Operator, type OpContext } from './operator.ts';

const MAX_PAYLOAD_IN_LETTER = 4096;

/**
 * Parses and stamps source records. The runtime feeds it in batches (`beginBatch()` reads the
 * clock once); the watermark moves with each event; `finish()` ends the input (watermark +∞).
 */
export class SourceOp extends Operator {
  private maxTs = -Infinity;
  private emitted = -Infinity;
  private header: string[] | undefined;
  private readonly timeOf: ((v: any) => number) | undefined;
  private batchNow = 0;

  constructor(id: string, instance: number, ctx: OpContext, private readonly cfg: SourceConfig) {
    super(id, 'source', instance, ctx);
    const et = cfg.eventTime;
    this.timeOf = et === undefined ? undefined : typeof et === 'function' ? et : (v: any) => toMillis(v?.[et]);
  }

  /** Begins a batch: processing time is read once per batch, not per event. Watermarks move per event. */
  beginBatch(): void {
    this.batchNow = this.ctx.clock.now();
    this.ctx.batchStart = performance.now();
  }

  /** One line of text input; `where` names it in dead letters (e.g. "line 12"). */
  ingestLine(line: string, where: number): void {
    // Blank lines carry nothing in the structured formats: skipped, not counted.
    if (this.cfg.format !== 'lines' && line.trim() === '') return;
    this.countIn();
    switch (this.cfg.format) {
      case 'lines': {
        const parse = this.cfg.parse;
        if (parse === undefined) { this.emitValue(line, line, where); return; }
        let v: unknown;
        try { v = parse(line, where); } catch (err) { this.bad(`line ${where}: ${(err as Error)?.message ?? String(err)}`, line); return; }
        this.emitValue(v, line, where);
        return;
      }
      case 'json': {
        let v: unknown;
        try { v = JSON.parse(line); } catch (err) { this.bad(`line ${where}: not valid JSON (${(err as Error).message})`, line); return; }
        this.emitValue(v, line, where);
        return;
      }
      case 'csv': this.ingestCsv(line, where); return;
      case 'senml': this.ingestSenml(line, where); return;
      case 'object': this.emitValue(line, line, where); return;
    }
  }

  /** A value that needs no parsing (format `object`, or a channel's decoded event). */
  ingestValue(value: unknown, where: number): void {
    this.countIn();
    this.emitValue(value, value, where);
  }

  private ingestCsv(line: string, where: number): void {
    const fields = splitCsvLine(line);
    if (typeof fields === 'string') { this.bad(`line ${where}: ${fields}`, line); return; }
    if (this.header === undefined) { this.header = fields.map((f) => f.trim()); return; }
    if (fields.length !== this.header.length) {
      this.bad(`line ${where}: ${fields.length} fields, but the header has ${this.header.length}`, line);
      return;
    }
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) obj[this.header[i]!] = csvValue(fields[i]!);
    this.emitValue(obj, line, where);
  }

  private ingestSenml(line: string, where: number): void {
    let pack: unknown;
    try { pack = JSON.parse(line); } catch (err) { this.bad(`line ${where}: not valid JSON (${(err as Error).message})`, line); return; }
    const r = resolveSenml(pack, this.batchNow || this.ctx.clock.now());
    if (!r.ok) { this.bad(`line ${where}: not a SenML pack (${r.reason})`, line); return; }
    for (const rec of r.records) this.emitValue(rec, line, where);
  }

  private emitValue(value: unknown, raw: unknown, where: number): void {
    const validate = this.cfg.validate;
    if (validate !== undefined) {
      let reason: unknown;
      try { reason = validate(value); } catch (err) { reason = (err as Error).message ?? String(err); }
      if (reason) { this.bad(`record ${where}: ${String(reason)}`, raw); return; }
    }
    let ts: number;
    if (this.timeOf === undefined) ts = this.batchNow;
    else {
      try { ts = this.timeOf(value); } catch { ts = NaN; }
      if (!Number.isFinite(ts)) {
        this.bad(`record ${where}: no event time (${describeTimeSpec(this.cfg)} gave ${String(ts)})`, raw);
        return;
      }
    }
    this.m.out++;
    this.out.push(ts, undefined, value);
    if (ts > this.maxTs) this.advanceTo(ts);
  }

  /**
   * The watermark follows the newest event time at once, after the event itself, so which
   * events are late depends only on their order, never on how the input was chunked.
   */
  private advanceTo(ts: number): void {
    this.maxTs = ts;
    if (this.timeOf === undefined) return;
    const wm = ts - this.cfg.maxDelayMs;
    if (wm > this.emitted) {
      this.emitted = wm;
      this.out.watermark(wm);
    }
  }

  private bad(reason: string, raw: unknown): void {
    const payload = typeof raw === 'string' && raw.length > MAX_PAYLOAD_IN_LETTER ? `${raw.slice(0, MAX_PAYLOAD_IN_LETTER)}…` : raw;
    this.reject(reason, payload);
  }

  push(ts: number, key: unknown, value: unknown): void {
    // A source fed by an upstream collector (a channel) behaves like ingestValue with its ts.
    this.countIn();
    this.m.out++;
    this.out.push(ts, key, value);
    if (ts > this.maxTs) this.advanceTo(ts);
  }

  /** End of a bounded input: every window downstream fires. */
  finish(): void {
    this.emitted = Infinity;
    this.out.watermark(Infinity);
  }

  override watermark(wm: number): void {
    if (wm > this.emitted) { this.emitted = wm; this.out.watermark(wm); }
  }
}

/** A field value as ms since the epoch: numbers as they are, text as ISO-8601 (Date.parse). */
export function toMillis(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() !== '' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

function describeTimeSpec(cfg: SourceConfig): string {
  return typeof cfg.eventTime === 'string' ? `field "${cfg.eventTime}"` : 'the eventTime function';
}
