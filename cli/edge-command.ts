import { hostname } from 'node:os';
import { startEdgeAgent } from '../edge/index.ts';
import { credentials, DEFAULT_CLOUD_MQTT, helpText, parseArgs, portFlag, untilSignal, UPLINK_FLAGS, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  ...UPLINK_FLAGS,
  id: { type: 'string', value: 'ID', help: 'this gateway\'s id, unique in the fleet (default the host name)' },
  tags: { type: 'string', value: 'a=b,c', help: 'tags deploy selectors match, e.g. site=plant-7,floor=2' },
  data: { type: 'string', value: 'DIR', help: 'desired state, artifacts, outboxes and edge results (default .sluice-edge/<id>)' },
  'local-port': { type: 'string', value: 'N', help: 'port of the local broker devices publish to (default 1884; 0 picks a free one)' },
  'local-host': { type: 'string', value: 'ADDR', help: 'interface of the local broker (default 127.0.0.1; 0.0.0.0 for devices on the network)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const EDGE_HELP = helpText(
  'sluice edge --cloud URL --id ID [--tags a=b,c] [--data DIR] [--local-port N]',
  'Starts a gateway agent: a local MQTT broker for this gateway\'s devices, and the edge part of\n' +
  'every app deployed to this gateway, over those devices. It registers with the cloud (tags,\n' +
  'cores, memory, a CPU calibration), reports its status, and follows the deploys. Without an\n' +
  'uplink it keeps running what it last ran and buffers channel output on disk; restarted\n' +
  'offline, it resumes from --data. Edge results go to <data>/apps/<app>/sinks/<sink>.jsonl.',
  FLAGS,
);

export async function edgeCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags } = parseArgs('edge', argv, FLAGS);
  if (flags.help) { io.stdout.write(EDGE_HELP); return 0; }
  const id = (flags.id as string | undefined) ?? hostname();
  const tags = ((flags.tags as string | undefined) ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const agent = await startEdgeAgent({
    id, tags,
    cloud: (flags.cloud as string | undefined) ?? DEFAULT_CLOUD_MQTT,
    dataDir: (flags.data as string | undefined) ?? `.sluice-edge/${id}`,
    localPort: portFlag('local-port', flags['local-port'] as string | undefined, 1884),
    ...(flags['local-host'] ? { localHost: flags['local-host'] as string } : {}),
    ...credentials(flags),
    log: (line) => io.stderr.write(`sluice edge ${id}: ${line}\n`),
  });
  io.stdout.write(`sluice edge ${id}: devices publish to ${agent.localUrl}\n`);
  await untilSignal();
  await agent.close();
  io.stdout.write(`sluice edge ${id}: stopped\n`);
  return 0;
}
