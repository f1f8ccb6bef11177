import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRun } from '../../shared/runtime/index.ts';
import type { Io } from '../io.ts';
import { loadApp } from '../load-app.ts';
import { summary } from '../run-command.ts';


interface CdnResult { client: string; windowStart: string; windowEnd: string; requests: number; bytes: number }

/** Runs the CDN example in this process over its bundled log file. */
export async function cdnDemo(root: string, io: Io): Promise<number> {
  const input = join(root, 'test/fixtures/cdn/apache_logs.log');
  const app = await loadApp(join(root, 'examples/cdn-per-minute.ts'));
  const outDir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
  const outFile = join(outDir, 'results.jsonl');
  const results: CdnResult[] = [];
  let late = 0;
  io.stdout.write(`Sluice demo: ${app.name} over ${input}\n`);
  const run = startRun(app.graph({ maxDelay: '60s' }), {
    sources: { logs: { type: 'file', path: input } },
    sinks: {
      results: { type: 'target', target: fanTarget(outFile, results) },
      late: { type: 'collect', onEvent: () => { late++; } },
    },
  });
  const { metrics } = await run.done;
  const top = [...results].sort((a, b) => b.bytes - a.bytes).slice(0, 10);
  const windows = new Set(results.map((r) => r.windowStart)).size;
  const clients = new Set(results.map((r) => r.client)).size;
  io.stdout.write(`\n${results.length} results: ${clients} clients over ${windows} one-minute windows; ${late} lines too late.\n`);
  io.stdout.write(`Top client-minutes by bytes:\n`);
  io.stdout.write(`  ${'client'.padEnd(16)} ${'minute (UTC)'.padEnd(22)} ${'requests'.padStart(8)} ${'bytes'.padStart(12)}\n`);
  for (const r of top) io.stdout.write(`  ${r.client.padEnd(16)} ${r.windowStart.padEnd(22)} ${String(r.requests).padStart(8)} ${String(r.bytes).padStart(12)}\n`);
  io.stdout.write(`\nAll results: ${outFile}\n`);
  io.stdout.write(summary(metrics));
  return 0;
}

function fanTarget(path: string, into: CdnResult[]) {
  const lines: string[] = [];
  return {
    write: (_ts: number, _key: unknown, value: unknown) => { into.push(value as CdnResult); lines.push(JSON.stringify(value)); },
    end: async () => { const { writeFile } = await import('node:fs/promises'); await writeFile(path, lines.join('\n') + '\n'); },
  };
}
