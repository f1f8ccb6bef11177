import { readFile } from 'node:fs/promises';
import { writeFileAtomically, type OutboxLog } from '../store/index.ts';
import { readSpan } from './outbox-record.ts';

/** How far each source's input has been read, by record number. */
export type Positions = Record<string, number>;

/** The positions file: positions of acked records, the seq of the newest mark among them, and where marking began. */
interface SavedPositions {
  readonly v: 2;
  readonly positions: Positions;
  readonly markSeq: number;
  /** The outbox's durable seq when positions were first kept: records up to it carry no marks. */
  readonly since: number;
}

/**
 * Input positions carried in an outbox. The span holding the last event of each source batch
 * carries the batch's input position (outbox-record.ts), in the same append as the batch's
 * other events, so a durable record says exactly how much input is safe. Once records are acked and trimmed their
 * positions live on in a small file, written (and fsynced) before the ack is applied.
 *
 * A crash inside a group commit can tear a batch: its first events durable, the record carrying
 * its position not. Every record after the newest mark is then such a torn tail, and
 * `tornRecords` says how many: read again from the position, the batch yields those events
 * first, and the sender drops that many (see `skipReplayed`) instead of storing them twice.
 */
export class SourcePositions {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    private readonly file: string,
    private saved: Positions,
    /** Positions carried by records not yet acked, by seq. */
    private marks: { seq: number; source: string; record: number }[],
    private markSeq: number,
    private readonly since: number,
    /** Durable records after the newest mark when the outbox was opened: a torn batch. */
    readonly tornRecords: number,
  ) {}

  /**
   * Opens the positions of an outbox after a restart: the file, plus the position of every
   * retained durable record. Those records may be acked before this process sends them again
   * (the receiver has them already), so their positions must be known from the start.
   */
  static async open(log: OutboxLog, file: string): Promise<SourcePositions> {
    let raw: unknown;
    try { raw = JSON.parse(await readFile(file, 'utf8')); } catch { /* none yet, or unreadable: start from the log */ }
    const v2 = typeof raw === 'object' && raw !== null && (raw as { v?: unknown }).v === 2 ? raw as SavedPositions : undefined;
    const saved: Positions = v2 ? { ...v2.positions } : typeof raw === 'object' && raw !== null ? { ...(raw as Positions) } : {};
    // Without a file in this format, records already in the log may predate marking: none is torn.
    const since = v2?.since ?? log.durableSeq;
    let markSeq = v2?.markSeq ?? 0;
    const marks: { seq: number; source: string; record: number }[] = [];
    for (let from = log.stats().ackedSeq + 1; from <= log.durableSeq;) {
      const records = await log.read(from, 10_000);
      if (records.length === 0) break;
      for (const r of records) {
        const { position } = readSpan(r);
        if (position) marks.push({ seq: r.seq + r.count - 1, source: position.source, record: position.record });
      }
      const last = records.at(-1)!;
      from = last.seq + last.count;
    }
    const newest = Math.max(markSeq, since, marks.at(-1)?.seq ?? 0);
    const positions = new SourcePositions(file, saved, marks, markSeq, since, Math.max(0, log.durableSeq - newest));
    if (!v2) { positions.dirty = true; await positions.persistUpTo(-1); }
    return positions;
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
      if (m.seq > this.markSeq) { this.markSeq = m.seq; changed = true; }
    }
    if (!changed && !this.dirty) return this.writing;
    this.dirty = true;
    const text = JSON.stringify({ v: 2, positions: this.saved, markSeq: this.markSeq, since: this.since } satisfies SavedPositions);
    // A failed write must not poison every later one: it stays dirty and is retried next time.
    this.writing = this.writing.catch(() => {}).then(() => writeFileAtomically(this.file, text)).then(() => { this.dirty = false; });
    return this.writing;
  }
}
