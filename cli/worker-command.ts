import { hostname } from 'node:os';
import { startNodeAgent } from '../shared/host/index.ts';
import { credentials, DEFAULT_CLOUD_MQTT, helpText, parseArgs, untilSignal, UPLINK_FLAGS, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  ...UPLINK_FLAGS,
  id: { type: 'string', value: 'ID', help: 'this worker\'s id, unique in the fleet (default worker-<host name>)' },
  data: { type: 'string', value: 'DIR', help: 'desired state, artifacts and cloud results (default .sluice-worker/<id>)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const WORKER_HELP = helpText(
  'sluice worker [--cloud URL] [--id ID] [--data DIR] [--username U --password P]',
  'Starts one more cloud worker. The coordinator (in `sluice cloud`) spreads the partitions of\n' +
  'every keyed cloud part over the workers online, and when a worker dies (its MQTT last-will)\n' +
  'gives its partitions to the others: they resume where its results were final, and the\n' +
  'gateways send again what it had not finished, so no event is lost. Results of the\n' +
  'partitions a worker runs go to <data>/apps/<app>/sinks/<sink>.jsonl.',
  FLAGS,
);

export async function workerCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags } = parseArgs('worker', argv, FLAGS);
  if (flags.help) { io.stdout.write(WORKER_HELP); return 0; }
  const id = (flags.id as string | undefined) ?? `worker-${hostname()}`;
  const broker = (flags.cloud as string | undefined) ?? DEFAULT_CLOUD_MQTT;
  const agent = await startNodeAgent({
    id, role: 'cloud', broker,
    dataDir: (flags.data as string | undefined) ?? `.sluice-worker/${id}`,
    ...credentials(flags),
    log: (line) => io.stderr.write(`sluice worker ${id}: ${line}\n`),
  });
  io.stdout.write(`sluice worker ${id}: working for ${broker}\n`);
  await untilSignal();
  await agent.close();
  io.stdout.write(`sluice worker ${id}: stopped\n`);
  return 0;
}
