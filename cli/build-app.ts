import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError } from '../shared/errors.ts';
import { API_EXPORTS, API_GLOBAL, artifactHash } from '../shared/runtime/index.ts';

export interface BuiltArtifact {
  path: string;
  hash: string;
  bytes: number;
}

/**
 * Bundles an app module into one self-contained ES module with esbuild. Imports of `sluice`
 * are replaced by a reference to the runtime that loads it, so the artifact carries the app
 * and its own dependencies but never a second copy of the runtime. The file is named by hash.
 *
 * @example
 * const { path, hash } = await buildApp('examples/word-count.ts', 'dist/apps');
 */
export async function buildApp(entry: string, outDir: string): Promise<BuiltArtifact> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new ConfigError('BUILD_NO_ESBUILD', 'building a TypeScript app needs esbuild, which is not installed here', {
      fix: 'run `npm install esbuild` beside sluice, or run a prebuilt artifact (.mjs) instead',
    });
  }
  const shim = [
    `const api = globalThis[Symbol.for(${JSON.stringify(API_GLOBAL)})];`,
    `if (!api) throw new Error('this artifact is a Sluice app: run it with \`sluice run <artifact>\`');`,
    `export const { ${API_EXPORTS.join(', ')} } = api;`,
  ].join('\n');
  let result: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    result = await esbuild.build({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20',
      write: false, minify: true, legalComments: 'none', logLevel: 'silent',
      plugins: [{
        name: 'sluice-api',
        setup(b) {
          b.onResolve({ filter: /^sluice$/ }, () => ({ path: 'sluice', namespace: 'sluice-api' }));
          b.onLoad({ filter: /.*/, namespace: 'sluice-api' }, () => ({ contents: shim, loader: 'js' }));
        },
      }],
    });
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}` : entry;
    throw new ConfigError('BUILD_FAILED', `cannot build ${entry}: ${first?.text ?? (err as Error).message}`, { where, fix: 'fix the app module so it compiles' });
  }
  const code = result.outputFiles![0]!.contents;
  const hash = artifactHash(code);
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `${basename(entry).replace(/\.[cm]?[tj]s$/, '')}.${hash.slice(0, 12)}.mjs`);
  await writeFile(path, code);
  return { path, hash, bytes: code.length };
}
