// Builds the runtime as ONE self-contained ES module: dist/sluice.mjs (esbuild, minified).
// esbuild itself stays external: only `sluice build` / `sluice run app.ts` need it, and they
// say so clearly when it is missing. Everything else, mqtt and aedes included, is inside.
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const budget = 1024 * 1024;

// cbor-x's node entry tries an optional native extractor; the pure-JS entry never does.
const pureCbor = {
  name: 'pure-cbor-x',
  setup(b) {
    const path = require.resolve('cbor-x').replace(/dist[/\\]node\.cjs$/, 'index.js');
    b.onResolve({ filter: /^cbor-x$/ }, () => ({ path }));
  },
};

const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', minify: true,
  legalComments: 'none', external: ['esbuild'], plugins: [pureCbor], logLevel: 'warning',
  // Bundled CommonJS packages call require() for Node built-ins.
  banner: { js: "import { createRequire as __sluiceRequire } from 'node:module'; const require = __sluiceRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ['cli/entry.ts'], outfile: 'dist/sluice.mjs',
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } });
chmodSync('dist/sluice.mjs', 0o755);
const size = statSync('dist/sluice.mjs').size;
console.log(`dist/sluice.mjs ${(size / 1024).toFixed(0)} KiB${size > budget ? ' — OVER the 1 MiB budget' : ''}`);
if (size > budget) process.exitCode = 1;
