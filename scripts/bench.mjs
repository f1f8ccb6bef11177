// Builds one benchmark (bench/<name>.ts) with esbuild and runs it: `npm run bench -- <name>`.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const names = process.argv.slice(2);
const all = readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
const run = names.length > 0 ? names : ['core'];
for (const name of run) {
  if (!existsSync(`bench/${name}.ts`)) {
    console.error(`no benchmark "${name}"; the benchmarks are: ${all.join(', ')}`);
    process.exit(2);
  }
  const outfile = `dist/bench/${name}.mjs`;
  await build({ entryPoints: [`bench/${name}.ts`], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  const r = spawnSync(process.execPath, [outfile], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
