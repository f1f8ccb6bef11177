/**
 * Child process for the SIGKILL suite. Appends records to the log in argv[2] forever, with
 * several appends in flight, and prints `d <seq> <run> <i>` once each append resolved
 * (durable) — `d <first seq> <run> <i> <count>` for a record covering several seqs —, `p <seq>` before an ack starts and `a <seq>` once it resolved. The parent kills
 * it at a random moment. Mode `priority` (argv[4]) runs a small log under the priority
 * policy, so kills also land in the middle of evictions and compactions.
 */
import { openDiskLog, type LogOptions } from '../../shared/store/index.ts';
import { crashPayload, crashPriority } from './crash-payload.ts';

const [dir, runArg, mode] = process.argv.slice(2);
const run = Number(runArg);
const priorityMode = mode === 'priority';
const opts: LogOptions = priorityMode
  ? { segmentBytes: 16 * 1024, maxBytes: 256 * 1024, overflow: 'priority', groupCommitMs: run % 3 }
  : { segmentBytes: 32 * 1024, groupCommitMs: run % 3 };
const log = await openDiskLog(dir as string, opts);
process.stdout.write(`r ${log.stats().nextSeq}\n`);
let i = 0;
let acked = log.stats().ackedSeq;

async function one(): Promise<void> {
  const mine = i++;
  try {
    const seq = await log.append(crashPayload(run, mine), { priority: crashPriority(mine) });
    process.stdout.write(`d ${seq} ${run} ${mine}\n`);
  } catch {
    await log.whenWritable(); // refused (back-pressure): this record was never stored
  }
}

async function batch(): Promise<void> {
  const k = 1 + (i % 37);
  if (i % 5 === 1 && !priorityMode) {
    // One record covering several seqs, as a channel sender stores a batch of events.
    const mine = i++;
    const payload = crashPayload(run, mine);
    const count = Math.min(k, payload.byteLength);
    const { first } = await log.appendSpans([{ payload, count }]);
    process.stdout.write(`d ${first} ${run} ${mine} ${count}\n`);
    return;
  }
  if (i % 5 === 0 && !priorityMode) {
    const start = i;
    const payloads = Array.from({ length: k }, () => crashPayload(run, i++));
    const { first } = await log.appendBatch(payloads);
    process.stdout.write(payloads.map((_, j) => `d ${first + j} ${run} ${start + j}\n`).join(''));
    return;
  }
  await Promise.all(Array.from({ length: k }, one));
}

for (;;) {
  await Promise.all([batch(), batch(), batch()]);
  const durable = log.durableSeq;
  if (durable - acked > 1500) {
    const upto = durable - 500;
    // Announced (and flushed to the pipe, which a full pipe would otherwise delay) first:
    // once ack() starts, the cursor may reach disk before we can say so.
    await new Promise((resolve) => process.stdout.write(`p ${upto}\n`, resolve));
    await log.ack(upto);
    acked = upto;
    process.stdout.write(`a ${upto}\n`);
  }
}
