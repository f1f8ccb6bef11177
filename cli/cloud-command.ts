import { startCloud } from '../cloud/index.ts';
import { parseDuration } from '../shared/graph/duration.ts';
import { credentials, helpText, parseArgs, portFlag, untilSignal, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  data: { type: 'string', value: 'DIR', help: 'registry, artifacts and cloud results (default .sluice-cloud)' },
  'mqtt-port': { type: 'string', value: 'N', help: 'port of the embedded MQTT broker (default 1883; 0 picks a free one)' },
  'http-port': { type: 'string', value: 'N', help: 'port of the HTTP API (default 8080; 0 picks a free one)' },
  'ws-port': { type: 'string', value: 'N', help: 'MQTT over WebSocket on the embedded broker, for browsers (default 8083; 0 picks a free one)' },
  host: { type: 'string', value: 'ADDR', help: 'interface to listen on (default 127.0.0.1; 0.0.0.0 for gateways on the network)' },
  broker: { type: 'string', value: 'URL', help: 'use this external MQTT broker instead of the embedded one' },
  username: { type: 'string', value: 'U', help: 'username for the external broker (with --password)' },
  password: { type: 'string', value: 'P', help: 'password for the external broker (with --username)' },
  'mqtt-version': { type: 'string', value: '4|5', help: 'MQTT protocol version towards an external broker (default 4, i.e. 3.1.1)' },
  'worker-grace': { type: 'string', value: 'TIME', help: 'after a restart, how long to wait to hear from a cloud worker before moving its partitions (default 10s)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const CLOUD_HELP = helpText(
  'sluice cloud [--data DIR] [--mqtt-port N] [--http-port N] [--broker URL]',
  'Starts the cloud on this machine: an MQTT broker for gateways and workers (embedded aedes, or\n' +
  '--broker URL for an external one), the coordinator (registry, artifacts, placement, deploys;\n' +
  'kept in --data), a cloud worker (cloud-0) that runs the cloud part of every app — with more\n' +
  'workers (`sluice worker`), its share of the partitions — and the HTTP API that `sluice deploy`,\n' +
  '`sluice apps`, `sluice nodes` and `sluice status` talk to. Cloud results go to\n' +
  '<data>/worker/apps/<app>/sinks/<sink>.jsonl. Ctrl-C stops it; gateways keep working and buffer.',
  FLAGS,
);

export async function cloudCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags } = parseArgs('cloud', argv, FLAGS);
  if (flags.help) { io.stdout.write(CLOUD_HELP); return 0; }
  const broker = flags.broker as string | undefined;
  const cloud = await startCloud({
    dataDir: (flags.data as string | undefined) ?? '.sluice-cloud',
    mqttPort: portFlag('mqtt-port', flags['mqtt-port'] as string | undefined, 1883),
    httpPort: portFlag('http-port', flags['http-port'] as string | undefined, 8080),
    wsPort: portFlag('ws-port', flags['ws-port'] as string | undefined, 8083),
    ...(flags.host ? { host: flags.host as string } : {}),
    ...(broker !== undefined ? { broker } : {}),
    ...credentials(flags),
    ...(flags['mqtt-version'] === '5' ? { protocolVersion: 5 as const } : {}),
    ...(flags['worker-grace'] !== undefined ? { workerGraceMs: parseDuration(flags['worker-grace'] as string, '--worker-grace') } : {}),
    log: (line) => io.stderr.write(`sluice cloud: ${line}\n`),
  });
  io.stdout.write(`sluice cloud: MQTT ${cloud.mqttUrl} (gateways: sluice edge --cloud ${cloud.mqttUrl} --id NAME)\n`);
  if (cloud.wsUrl) io.stdout.write(`sluice cloud: WebSocket ${cloud.wsUrl} (MQTT for browsers)\n`);
  io.stdout.write(`sluice cloud: HTTP ${cloud.httpUrl} (deploys: sluice deploy app.ts --cloud ${cloud.httpUrl})\n`);
  await untilSignal();
  await cloud.close();
  io.stdout.write('sluice cloud: stopped\n');
  return 0;
}
