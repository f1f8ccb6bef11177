/** Runs the OutboxLog contract against the memory log and the disk log. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createMemoryLog, openDiskLog } from '../../shared/store/index.ts';
import { describeLogContract } from './log-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-store-contract-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeLogContract('memory', async (opts) => createMemoryLog(opts));
describeLogContract('disk', async (opts) => openDiskLog(join(root, `log-${n++}`), opts));
