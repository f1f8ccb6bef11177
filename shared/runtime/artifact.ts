import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import * as api from '../dsl/index.ts';
import { isAppDefinition, type AppDefinition } from '../dsl/index.ts';
import { ConfigError } from '../errors.ts';

/** The global through which an artifact reaches the runtime's DSL instead of bundling its own. */
export const API_GLOBAL = 'sluice.api.v1';

/** The names an artifact may import from `sluice`. */
export const API_EXPORTS: readonly string[] = Object.freeze(Object.keys(api).sort());

/** Content address of an artifact: sha256 of its bytes, hex. */
export function artifactHash(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Loads a built app artifact (an ES module whose default export is `defineApp(...)`), giving it
 * this runtime's DSL. With `expectHash`, refuses an artifact whose bytes do not match.
 *
 * @example
 * const app = await loadArtifact('dist/apps/word-count.1f2e3d4c5b6a.mjs');
 */
export async function loadArtifact(path: string, expectHash?: string): Promise<AppDefinition> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (err) {
    throw new ConfigError('ARTIFACT_UNREADABLE', `cannot read artifact ${path}: ${(err as Error).message}`, { fix: 'check the path; build one with: sluice build app.ts' });
  }
  if (expectHash !== undefined && artifactHash(bytes) !== expectHash) {
    throw new ConfigError('ARTIFACT_HASH_MISMATCH', `artifact ${path} does not match hash ${expectHash}`, { fix: 'rebuild and upload it again; never edit a built artifact' });
  }
  (globalThis as Record<symbol, unknown>)[Symbol.for(API_GLOBAL)] = api;
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  if (!isAppDefinition(mod.default)) {
    throw new ConfigError('ARTIFACT_NO_APP', `${path} does not export an app`, { fix: "end the app module with: export default defineApp('name', (app, params) => { ... })" });
  }
  return mod.default;
}
