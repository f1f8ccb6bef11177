import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppView } from '../cloud/index.ts';
import { ConfigError } from '../shared/errors.ts';
import { artifactHash } from '../shared/runtime/index.ts';
import { helpText, pairs, parseArgs, type FlagSpec } from './args.ts';
import { buildApp } from './build-app.ts';
import { callCloud, DEFAULT_CLOUD_URL } from './cloud-client.ts';
import { cloudWorkers } from './fleet-views.ts';
import type { Io } from './io.ts';

const CLOUD_FLAG: FlagSpec = { type: 'string', value: 'URL', help: `the cloud's HTTP API, as \`sluice cloud\` prints it (default ${DEFAULT_CLOUD_URL})` };

const DEPLOY_FLAGS: Record<string, FlagSpec> = {
  gateways: { type: 'string', value: 'SELECTOR', help: '* (default: every gateway), or tags/ids that must all match, e.g. site=plant-7,id=gw-1' },
  param: { type: 'list', value: 'KEY=VALUE', help: 'an app parameter (repeatable)' },
  partitions: { type: 'string', value: 'N', help: 'partitions of a keyed cloud part, spread over the cloud workers (default 4; fixed once deployed)' },
  cloud: CLOUD_FLAG,
  json: { type: 'boolean', help: 'print the result as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export const DEPLOY_HELP = helpText(
  'sluice deploy app.ts [--gateways SELECTOR] [--param KEY=VALUE] [--partitions N] [--cloud URL]',
  'Builds the app (or takes a built .mjs artifact), uploads it with its sha256, and deploys it: the\n' +
  'edge part to every gateway the selector matches (and to any that joins later), the cloud part to\n' +
  'the cloud workers. When every channel into the cloud is keyed, the cloud part is cut into\n' +
  'partitions by key, spread over the workers; a worker that dies has its partitions taken over.\n' +
  'Deploying an app that runs already moves it to the new version; gateways keep what their\n' +
  'outboxes hold. A bad app, a hash mismatch or a selector matching no gateway is refused and\n' +
  'changes nothing.',
  DEPLOY_FLAGS,
);

export async function deployCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('deploy', argv, DEPLOY_FLAGS);
  if (flags.help) { io.stdout.write(DEPLOY_HELP); return 0; }
  const file = positional[0];
  if (file === undefined) throw new ConfigError('CLI_NO_APP', 'which app?', { fix: 'write sluice deploy app.ts (or a built .mjs)' });
  if (!existsSync(file)) throw new ConfigError('CLI_NO_APP', `app file ${file} does not exist`, { fix: 'pass the path of an app module (.ts) or a built artifact (.mjs)' });
  const bytes = await artifactBytes(file);
  const query = new URLSearchParams();
  if (flags.gateways !== undefined) query.set('gateways', flags.gateways as string);
  for (const [k, v] of Object.entries(pairs('param', flags.param as string[] | undefined))) query.append('param', `${k}=${v}`);
  if (flags.partitions !== undefined) query.set('partitions', flags.partitions as string);
  const cloud = (flags.cloud as string | undefined) ?? DEFAULT_CLOUD_URL;
  const { app, replaced } = await callCloud<{ app: AppView; replaced?: number }>(cloud, 'POST', `/api/apps?${query}`, bytes, {
    'content-type': 'application/octet-stream', 'x-sluice-sha256': artifactHash(bytes),
  });
  if (flags.json) { io.stdout.write(`${JSON.stringify({ app, replaced })}\n`); return 0; }
  io.stdout.write(`deployed ${app.name} v${app.version}${replaced ? ` (was v${replaced})` : ''}, artifact ${app.hash.slice(0, 12)}\n`);
  io.stdout.write(`  edge part on ${app.gateways.length} gateway(s): ${app.gateways.join(', ')}\n`);
  const on = cloudWorkers(app);
  io.stdout.write(`  cloud part in ${app.partitions} partition(s) (${app.partitioning ?? 'one partition'}), on ${on === '-' ? 'no cloud worker yet (it starts when one registers)' : on}\n`);
  return 0;
}

async function artifactBytes(file: string): Promise<Buffer> {
  if (/\.(mjs|js)$/.test(file)) return readFile(file);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-deploy-'));
  try {
    return await readFile((await buildApp(file, dir)).path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const UNDEPLOY_FLAGS: Record<string, FlagSpec> = { cloud: CLOUD_FLAG, help: { type: 'boolean', help: 'show this help' } };

export const UNDEPLOY_HELP = helpText('sluice undeploy APP [--cloud URL]', 'Stops an app on every node; each node removes its state (outboxes, results) for it.', UNDEPLOY_FLAGS);

export async function undeployCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('undeploy', argv, UNDEPLOY_FLAGS);
  if (flags.help) { io.stdout.write(UNDEPLOY_HELP); return 0; }
  const name = positional[0];
  if (name === undefined) throw new ConfigError('CLI_NO_APP', 'which app?', { fix: 'write sluice undeploy APP; `sluice apps` lists them' });
  const cloud = (flags.cloud as string | undefined) ?? DEFAULT_CLOUD_URL;
  const app = await callCloud<{ name: string; version: number }>(cloud, 'DELETE', `/api/apps/${encodeURIComponent(name)}`);
  io.stdout.write(`undeployed ${app.name} v${app.version}\n`);
  return 0;
}
