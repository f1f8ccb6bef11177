import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE, ROOT, ensureBundle } from '../support/bundle.ts';

/** Processes whose command line names `dir` (the demo's fleet passes it to every child). */
function processesUsing(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

describe('sluice demo (npm start): the fleet on the embedded default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows a cut gateway buffering and draining and the totals catching up; Ctrl-C stops every process', async () => {
    ensureBundle();
    const child = spawn(process.execPath, [BUNDLE, 'demo', '--data', dir, '--cut-at', '5s', '--cut-for', '8s', '--window', '2s', '--devices', '32', '--every', '1s'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Ctrl-C once the restored gateway has drained and its late means revised a house total.
    const revised = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const afterRestore = out.split("gw-b's uplink is back")[1] ?? '';
        if (/rev [1-9]/.test(afterRestore) && /gw-b\s+uplink up\s+readings\s+[\d,]+\s+outbox\s+0 undelivered/.test(afterRestore)) resolve();
      });
    });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    await Promise.race([revised, exited]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toMatch(/deployed smart-plugs v1: edge part on gw-a, gw-b, cloud part on cloud-0/);
    const cut = out.split('>>> cutting')[1]!.split("gw-b's uplink is back")[0]!;
    // While cut, gw-b's outbox holds events its uplink could not deliver...
    expect(cut).toMatch(/gw-b\s+UPLINK CUT \d+ s\s+readings\s+[\d,]+\s+outbox\s+[1-9][\d,]* undelivered/);
    // ...and after the restore it delivers them all; the cloud acks them once their totals are final.
    const after = out.split("gw-b's uplink is back")[1]!;
    expect(after).toMatch(/gw-b\s+uplink up\s+readings\s+[\d,]+\s+outbox\s+0 undelivered \+\s+[1-9][\d,]* kept until final/);
    expect(out).toMatch(/cloud house totals \d\d:\d\d:\d\d: house 0 [\d,]+ W \(64 plugs/);
    expect(out).toMatch(/every process stopped cleanly/);
    expect(processesUsing(dir)).toEqual([]);
  }, 120_000);
});
