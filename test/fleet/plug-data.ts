import { existsSync, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import mqtt from 'mqtt';
import { createFleet } from '../../firmware-sim/index.ts';
import { batchAligned, type BatchResult } from '../reference/batch-windows.ts';

export interface PlugReading { id: string; seq: number; ts: number; house: number; w: number }

/**
 * Runs a seeded plug fleet against one gateway's local broker until `readings` have reached
 * that broker, and records them from a subscription of its own: what the simulator sent, as
 * the gateway's devices delivered it, for the batch computation to fold independently.
 */
export async function sendPlugReadings(localUrl: string, o: { seed: number; devices: number; rate: number; readings: number }): Promise<PlugReading[]> {
  const recorder = await mqtt.connectAsync(localUrl, { clientId: `test-recorder-${o.seed}-${process.pid}` });
  const got: PlugReading[] = [];
  let target = o.readings;
  let reached!: () => void;
  let waiting = new Promise<void>((resolve) => { reached = resolve; });
  recorder.on('message', (_t, p) => { got.push(JSON.parse(p.toString()) as PlugReading); if (got.length >= target) reached(); });
  await recorder.subscribeAsync('sim/plug/+', { qos: 0 });
  const fleet = createFleet({ broker: localUrl, model: 'plug', devices: o.devices, rate: o.rate, seed: o.seed, connections: 1, clientIdPrefix: `sim-${o.seed}-` });
  fleet.start();
  await waiting;
  await fleet.close();
  // Readings published after the count was reached went to the gateway too: wait for them all.
  target = fleet.stats().sent;
  waiting = new Promise<void>((resolve) => { reached = resolve; });
  if (got.length < target) await waiting;
  await recorder.endAsync();
  return got;
}

/** Per-house sums of `w` per tumbling window, computed in one batch over every reading. */
export function batchHouseTotals(readings: readonly PlugReading[], windowMs: number): BatchResult[] {
  return batchAligned(readings.map((r) => ({ ts: r.ts, key: String(r.house), value: r.w })), windowMs);
}

/**
 * The cloud watermark once every gateway's readings are in: the minimum over gateways of
 * their newest event time less the source's max delay. Windows ending at or before it closed.
 */
export function closedUpTo(perGateway: readonly (readonly PlugReading[])[], delayMs: number): number {
  return Math.min(...perGateway.map((rs) => Math.max(...rs.map((r) => r.ts)) - delayMs));
}

export interface WindowRow { key: number | string; windowStart: number; windowEnd: number; value: number; revision: number }

/**
 * The newest revision of each window in one results file, or in several read in order (the
 * cloud workers' files, oldest owner first: a later file's equal revision wins).
 */
export function readWindows(files: string | readonly string[]): Map<string, WindowRow> {
  const out = new Map<string, WindowRow>();
  for (const file of typeof files === 'string' ? [files] : files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const w = JSON.parse(line) as WindowRow;
      const k = `${w.key}|${w.windowStart}`;
      const prev = out.get(k);
      if (!prev || w.revision >= prev.revision) out.set(k, w);
    }
  }
  return out;
}

/** Resolves once `test()` holds, re-checked whenever a file in `file`'s folder changes. */
export function untilFile<T>(file: string, test: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const first = test();
    if (first !== undefined) { resolve(first); return; }
    const watcher = existsSync(dirname(file)) ? watch(dirname(file), () => {
      const r = test();
      if (r !== undefined) { watcher?.close(); clearInterval(backstop); resolve(r); }
    }) : undefined;
    // fs.watch may coalesce events; a slow re-check makes sure a last write is not missed.
    const backstop = setInterval(() => {
      const r = test();
      if (r !== undefined) { watcher?.close(); clearInterval(backstop); resolve(r); }
    }, 250);
  });
}

/**
 * The batch's house totals for every window closed once all of `sent` is in (see `closedUpTo`),
 * and the cloud's results from `files` once they hold each of those windows (watching the last).
 */
export async function untilClosedWindows(files: string | readonly string[], sent: readonly (readonly PlugReading[])[], delayMs: number, windowMs = 1000) {
  const closed = closedUpTo(sent, delayMs);
  const expected = batchHouseTotals(sent.flat(), windowMs).filter((w) => w.windowEnd <= closed);
  const all = typeof files === 'string' ? [files] : files;
  const got = await untilFile(all[all.length - 1]!, () => {
    const w = readWindows(all);
    return expected.every((e) => w.has(`${e.key}|${e.windowStart}`)) ? w : undefined;
  });
  return { expected, got };
}
