import type { StatusEvent } from '../shared/ops/index.ts';
import type { Io } from './io.ts';

const INFORMATIONAL = new Set<StatusEvent['type']>(['exec-started', 'source-ended', 'source-resumed']);

/** Prints a runtime status event as one line; `--quiet` keeps only faults. */
export function statusPrinter(io: Io, quiet: boolean): (e: StatusEvent) => void {
  return (e) => {
    if (quiet && INFORMATIONAL.has(e.type)) return;
    io.stderr.write(`sluice: ${e.type} ${JSON.stringify(e)}\n`);
  };
}
