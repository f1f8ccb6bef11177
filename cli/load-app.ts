import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppDefinition } from '../shared/dsl/index.ts';
import { ConfigError } from '../shared/errors.ts';
import { loadArtifact } from '../shared/runtime/index.ts';
import { buildApp } from './build-app.ts';

/** Loads an app from a built artifact (.mjs/.js) or builds it first from its source (.ts). */
export async function loadApp(path: string): Promise<AppDefinition> {
  if (!existsSync(path)) {
    throw new ConfigError('CLI_NO_APP', `app file ${path} does not exist`, { fix: 'pass the path of an app module (.ts) or a built artifact (.mjs)' });
  }
  if (/\.(mjs|js)$/.test(path)) return loadArtifact(path);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-app-'));
  try {
    const built = await buildApp(path, dir);
    return await loadArtifact(built.path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
