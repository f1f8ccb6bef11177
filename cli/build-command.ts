import { ConfigError } from '../shared/errors.ts';
import { helpText, parseArgs, type FlagSpec } from './args.ts';
import { buildApp } from './build-app.ts';
import type { Io } from './io.ts';
import { loadArtifact } from '../shared/runtime/index.ts';

const FLAGS: Record<string, FlagSpec> = {
  'out-dir': { type: 'string', value: 'DIR', help: 'where to write the artifact (default dist/apps)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const BUILD_HELP = helpText(
  'sluice build <app.ts> [--out-dir DIR]',
  'Bundles an app module and its dependencies into one JavaScript artifact named by its hash,\n' +
  'checks that it defines a valid app, and prints its path and sha256. The artifact uses the\n' +
  'runtime that loads it, so it runs anywhere `sluice` does, with no node_modules.',
  FLAGS,
);

export async function buildCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('build', argv, FLAGS);
  if (flags.help) { io.stdout.write(BUILD_HELP); return 0; }
  if (positional.length !== 1) throw new ConfigError('CLI_BUILD_APP', 'one app module expected', { fix: 'sluice build app.ts' });
  const built = await buildApp(positional[0]!, (flags['out-dir'] as string | undefined) ?? 'dist/apps');
  const app = await loadArtifact(built.path, built.hash);
  const graph = app.graph();
  io.stdout.write(`${built.path}\nsha256 ${built.hash}\napp ${app.name}: ${graph.operators.length} operators, ${(built.bytes / 1024).toFixed(1)} KiB\n`);
  return 0;
}
