import { readFile } from 'node:fs/promises';
import { decode } from 'cbor-x';
import { writeFileAtomically, type OutboxLog } from '../store/index.ts';

/** How far each source's input has been read, by record number. */
export type Positions = Record<string, number>;

/**
 * Input positions carried in an outbox. The sender writes the last event of each source batch
 * as `[ts, key, value, source, record]`, in the same atomic append as the batch's other events,
 * so a durable record says exactly how much input is safe. Once records are acked and trimmed
 * their positions live on in a small file, written (and fsynced) before the ack is applied.
 */
export class SourcePositions {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    private readonly file: string,
    private saved: Positions,
    /** Positions carried by records not yet acked, by seq. */
    private marks: { seq: number; source: string; record: number }[],
  ) {}

  /**
   * Opens the positions of an outbox after a restart: the file, plus the position of every
   * retained durable record. Those records may be acked before this process sends them again
   * (the receiver has them already), so their positions must be known from the start.
   */
  static async open(log: OutboxLog, file: string): Promise<SourcePositions> {
    let saved: Positions = {};
    try { saved = JSON.parse(await readFile(file, 'utf8')) as Positions; } catch { /* none yet, or unreadable: start from the log */ }
    if (typeof saved !== 'object' || saved === null) saved = {};
    const marks: { seq: number; source: string; record: number }[] = [];
    for (let from = log.stats().ackedSeq + 1; from <= log.durableSeq;) {
      const records = await log.read(from, 10_000);
      if (records.length === 0) break;
      for (const r of records) {
        const rec = decode(r.payload) as unknown[];
        if (rec.length === 5 && typeof rec[3] === 'string' && typeof rec[4] === 'number') marks.push({ seq: r.seq, source: rec[3], record: rec[4] });
      }
      from = records.at(-1)!.seq + 1;
    }
    return new SourcePositions(file, saved, marks);
  }

  /** How far each source's input is durable in the outbox: where a restart resumes. */
  current(): Positions {
    const out = { ...this.saved };
    for (const m of this.marks) out[m.source] = Math.max(out[m.source] ?? 0, m.record);
    return out;
  }

  /** A record carrying a position was sent at `seq`. */
  note(seq: number, source: string, record: number): void {
    const last = this.marks.at(-1);
    if (!last || seq > last.seq) this.marks.push({ seq, source, record });
  }

  /** Makes the positions of records up to `ackedSeq` durable in the file; resolves when written. */
  persistUpTo(ackedSeq: number): Promise<void> {
    let changed = false;
    while (this.marks.length > 0 && this.marks[0]!.seq <= ackedSeq) {
      const m = this.marks.shift()!;
      if ((this.saved[m.source] ?? 0) < m.record) { this.saved[m.source] = m.record; changed = true; }
    }
    if (!changed && !this.dirty) return this.writing;
    this.dirty = true;
    const text = JSON.stringify(this.saved);
    // A failed write must not poison every later one: it stays dirty and is retried next time.
    this.writing = this.writing.catch(() => {}).then(() => writeFileAtomically(this.file, text)).then(() => { this.dirty = false; });
    return this.writing;
  }
}
