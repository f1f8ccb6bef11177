import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUNDLE = join(ROOT, 'dist', 'sluice.mjs');

/** Builds dist/sluice.mjs once if a test run starts without it (npm test builds it first). */
export function ensureBundle(): string {
  if (!existsSync(BUNDLE)) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building dist/sluice.mjs failed');
  }
  return BUNDLE;
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs the built bundle as a real child process; resolves when it exits. */
export function sluice(args: readonly string[], opts: { cwd?: string; input?: string; bundle?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bundle ?? BUNDLE, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}
