import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../shared/errors.ts';
import { parseDuration } from '../shared/graph/duration.ts';
import { helpText, parseArgs, type FlagSpec } from './args.ts';
import { cdnDemo } from './demo/cdn-demo.ts';
import { fleetDemo } from './demo/fleet-demo.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  duration: { type: 'string', value: 'D', help: 'stop by itself after D, e.g. 90s (default: run until Ctrl-C)' },
  'cut-at': { type: 'string', value: 'D', help: "when to cut gateway gw-b's uplink (default 30s)" },
  'cut-for': { type: 'string', value: 'D', help: 'how long it stays cut (default 25s)' },
  window: { type: 'string', value: 'D', help: 'window of the per-plug means and house totals (default 10s; the app\'s own default is 1m)' },
  devices: { type: 'string', value: 'N', help: 'smart plugs per gateway (default 64: two houses per gateway)' },
  every: { type: 'string', value: 'D', help: 'how often the live summary is printed (default 3s)' },
  data: { type: 'string', value: 'DIR', help: 'where the demo fleet keeps its state (default a new temp folder)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const DEMO_HELP = helpText(
  'sluice demo [fleet | cdn] [--duration D] [--cut-at D] [--cut-for D]',
  'fleet (the default): starts a cloud, two gateways and a simulated smart-plug fleet per gateway\n' +
  'as separate processes, deploys examples/smart-plugs.ts (per-plug mean load and jump alerts at\n' +
  'each gateway, per-house totals in the cloud), and prints a live summary. Partway through,\n' +
  "gateway gw-b's uplink is cut and restored: watch its outbox grow on disk and drain, and the\n" +
  'house totals catch up. Ctrl-C stops every process cleanly.\n\n' +
  'cdn: runs examples/cdn-per-minute.ts in this process over 10,000 real web-server log lines that\n' +
  'arrive out of order by up to 59 s, and prints per-client, per-minute request and byte counts.',
  FLAGS,
);

/** The repository root, from either the bundle (dist/) or the sources (cli/). */
function repoRoot(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

export async function demoCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('demo', argv, FLAGS);
  if (flags.help) { io.stdout.write(DEMO_HELP); return 0; }
  const which = positional[0] ?? 'fleet';
  if (which === 'cdn') return cdnDemo(repoRoot(), io);
  if (which !== 'fleet') throw new ConfigError('CLI_BAD_DEMO', `there is no demo "${which}"`, { fix: 'run `sluice demo` (the fleet) or `sluice demo cdn`' });
  const ms = (flag: string, fallback: string) => parseDuration((flags[flag] as string | undefined) ?? fallback, `--${flag}`);
  const devicesText = (flags.devices as string | undefined) ?? '64';
  if (!/^[1-9]\d*$/.test(devicesText) || Number(devicesText) > 5000) {
    throw new ConfigError('CLI_BAD_DEVICES', `--devices ${devicesText} is not a count of 1..5000`, { fix: 'e.g. --devices 64' });
  }
  return fleetDemo({
    root: repoRoot(), dataDir: flags.data as string | undefined,
    durationMs: flags.duration !== undefined ? ms('duration', '0') : undefined,
    cutAtMs: ms('cut-at', '30s'), cutForMs: ms('cut-for', '25s'), window: (flags.window as string | undefined) ?? '10s',
    devices: Number(devicesText), everyMs: ms('every', '3s'),
  }, io);
}
