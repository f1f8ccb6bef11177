/**
 * `sluice sim`: runs a simulated fleet from the command line with a one-line live progress
 * (refreshed in place on a TTY, a line every 5 s otherwise), connection problems reported as
 * one line each (no stack traces) while the fleet retries, and a clean stop on Ctrl-C or at
 * the end of --duration. Exit codes: 0 done, 2 bad option, 1 unexpected failure.
 */
import { ConfigError, describeError } from '../shared/errors.ts';
import { parseSimArgs, SIM_HELP } from './cli-args.ts';
import type { SimArgs } from './cli-args.ts';
import { createFleet } from './fleet.ts';
import type { Fleet, FleetEvent, FleetStats } from './fleet.ts';
import { loadReplay } from './replay-file.ts';
import type { ReplayData } from './replay.ts';

/** Where the command writes. */
export interface SimIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Repeats of one kind of connection error are printed at most this often. */
const ERROR_REPEAT_MS = 5000;

/**
 * Runs `sluice sim` with the arguments after `sim`; resolves to the exit code.
 *
 * @example
 * process.exitCode = await simCommand(process.argv.slice(3), { stdout: process.stdout, stderr: process.stderr });
 */
export async function simCommand(argv: string[], io: SimIo): Promise<number> {
  let args: SimArgs;
  let replay: ReplayData | undefined;
  let fleet: Fleet;
  try {
    args = parseSimArgs(argv);
    if (args.help) {
      io.stdout.write(SIM_HELP);
      return 0;
    }
    if (args.replay !== undefined) replay = await loadReplay(args.replay);
    fleet = createFleet({
      broker: args.broker,
      ...(args.model !== undefined ? { model: args.model } : {}),
      ...(args.devices !== undefined ? { devices: args.devices } : {}),
      ...(replay !== undefined ? { replay } : {}),
      ...(args.username !== undefined ? { username: args.username } : {}),
      ...(args.password !== undefined ? { password: args.password } : {}),
      rate: args.rate, seed: args.seed, faults: args.faults, format: args.format, speed: args.speed,
      qos: args.qos, connections: args.connections, concurrency: args.concurrency, topicRoot: args.topicRoot,
      onEvent: (e) => report(e),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`sluice sim: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`sluice sim: ${describeError(err)}\n`);
    return 1;
  }

  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  const lastPrinted = new Map<string, number>();
  let progressShown = false;
  let stopReason = '';
  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = (why) => {
      stopReason ||= why;
      resolve();
    };
  });

  function report(e: FleetEvent): void {
    if (e.type === 'finished') stop(replay ? 'the replay ended' : 'every device finished');
    if (e.type !== 'error') return;
    const now = Date.now();
    if (now - (lastPrinted.get(e.error.code) ?? -Infinity) < ERROR_REPEAT_MS) return;
    lastPrinted.set(e.error.code, now);
    if (tty && progressShown) io.stdout.write('\r\x1b[K');
    io.stderr.write(`sluice sim: ${e.error.message} (client ${e.client}; retrying in ${(e.retryInMs / 1000).toFixed(1)} s)\n`);
  }

  const modelName = fleet.config.modelName;
  let last = { at: Date.now(), sent: 0 };
  let windowRate = 0;
  const progress = (): void => {
    const s = fleet.stats();
    const now = Date.now();
    windowRate = now > last.at ? ((s.sent - last.sent) * 1000) / (now - last.at) : 0;
    last = { at: now, sent: s.sent };
    const line = progressLine(modelName, s, windowRate);
    io.stdout.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    progressShown = true;
  };

  const onSigint = (): void => stop('Ctrl-C');
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const ticker = setInterval(progress, tty ? 1000 : 5000);
  const deadline = args.durationMs === undefined ? undefined : setTimeout(() => stop('the duration ended'), args.durationMs);
  try {
    fleet.start();
    await stopped;
  } finally {
    clearInterval(ticker);
    if (deadline !== undefined) clearTimeout(deadline);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  const s = fleet.stats();
  await fleet.close();
  if (tty && progressShown) io.stdout.write('\n');
  io.stdout.write(`${summaryLine(modelName, s, stopReason)}\n`);
  return 0;
}

function progressLine(model: string, s: FleetStats, rate: number): string {
  const requested = s.requestedRate === undefined ? '' : ` of ${fmt(s.requestedRate)} requested`;
  return `sim ${model}: ${s.connected}/${s.devices} connected | ${fmt(rate)} msg/s${requested} | sent ${s.sent} | truth ${s.truth} | skipped ${s.skipped} | overflow ${s.overflow} | errors ${s.errors} | ${(s.elapsedMs / 1000).toFixed(0)} s`;
}

function summaryLine(model: string, s: FleetStats, why: string): string {
  const vs = s.requestedRate === undefined
    ? ''
    : ` vs ${fmt(s.requestedRate)} requested (${((100 * s.achievedRate) / s.requestedRate).toFixed(1)}%)`;
  return `sim ${model} stopped (${why}): sent ${s.sent} readings and ${s.truth} ground-truth records in ${(s.elapsedMs / 1000).toFixed(1)} s; achieved ${fmt(s.achievedRate)} msg/s${vs}; skipped ${s.skipped}; overflow ${s.overflow}; errors ${s.errors}`;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
