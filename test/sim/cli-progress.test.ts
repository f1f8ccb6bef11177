import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { simCommand } from '../../firmware-sim/cli.ts';
import { startBroker } from './broker.ts';

/** A writable that says it is a terminal, as process.stdout does on a TTY. */
function terminal(): { stream: Writable & { isTTY: boolean }; text: () => string } {
  let text = '';
  const stream = Object.assign(new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } }), { isTTY: true });
  return { stream, text: () => text };
}

describe('sluice sim progress', () => {
  it('refreshes one progress line in place on a TTY and ends with a summary', async () => {
    const broker = await startBroker();
    try {
      const out = terminal();
      const err = terminal();
      const code = await simCommand(['--broker', broker.url, '--model', 'climate', '--devices', '20', '--rate', '5', '--duration', '2500ms'], { stdout: out.stream, stderr: err.stream });
      expect(code).toBe(0);
      const text = out.text();
      // Each refresh returns to the line start and clears it instead of adding lines.
      expect(text).toMatch(/\r\x1b\[Ksim climate: 20\/20 connected \| [\d.]+ msg\/s of 100 requested \| sent \d+/);
      const lines = text.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^sim climate stopped \(the duration ended\)/);
      expect(err.text()).toBe('');
    } finally {
      await broker.close();
    }
  });
});
