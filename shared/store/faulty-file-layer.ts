/**
 * A file layer that fails on demand, for fault tests of the log and of anything built on it: `ENOSPC` (a write stores half its bytes
 * then fails, as a full disk does), `EROFS` (every mutation fails) or `EIO` (fsync fails, and so
 * does a write to a file opened with `syncWrites`, whose flush is part of the write).
 * Reads always work. Wraps the real node:fs layer, so files are real.
 */
import { nodeFileLayer, type FileLayer, type LogFile } from './file-layer.ts';

/** Which failure the layer injects now; `ok` passes everything through. */
export type FaultMode = 'ok' | 'ENOSPC' | 'EROFS' | 'EIO';

/** The injectable layer (`fs`) plus its switch (`mode`) and operation counts. */
export interface FaultyFileLayer {
  readonly fs: FileLayer;
  mode: FaultMode;
  /** Operations that failed because of the mode. */
  failures: number;
  writes: number;
  /** fsyncs, and writes that synced themselves (`syncWrites`). */
  syncs: number;
}

function fail(code: string, op: string): Error {
  return Object.assign(new Error(`${code}: injected fault, ${op}`), { code });
}

/**
 * Wraps `inner` (default node:fs); set `.mode` to start or stop failing.
 * @example
 * const faulty = createFaultyFileLayer();
 * const log = await openDiskLog(dir, { fs: faulty.fs });
 * faulty.mode = 'ENOSPC'; // appends now wait, stats().health === 'faulted'
 */
export function createFaultyFileLayer(inner: FileLayer = nodeFileLayer): FaultyFileLayer {
  const state = { mode: 'ok' as FaultMode, failures: 0, writes: 0, syncs: 0 };
  const refuse = (op: string, modes: FaultMode[]): void => {
    if (modes.includes(state.mode)) {
      state.failures++;
      throw fail(state.mode, op);
    }
  };
  const wrap = (f: LogFile, writable: boolean): LogFile => ({
    async writev(buffers, position) {
      state.writes++;
      if (state.mode === 'ENOSPC') {
        const first = buffers[0];
        if (first && first.byteLength > 1) await f.writev([first.subarray(0, first.byteLength >> 1)], position);
      }
      refuse('write', ['ENOSPC', 'EROFS']);
      if (!writable) throw fail('EBADF', 'write to a read-only handle');
      await f.writev(buffers, position);
      if (f.syncsWrites) {
        // The bytes reached the file; the flush inside the write is what fails.
        state.syncs++;
        refuse('write (synced)', ['EIO']);
      }
    },
    read: (b, o, l, p) => f.read(b, o, l, p),
    syncsWrites: f.syncsWrites,
    async sync() {
      state.syncs++;
      refuse('fsync', ['EIO', 'EROFS']);
      await f.sync();
    },
    async truncate(len) {
      refuse('truncate', ['EROFS']);
      await f.truncate(len);
    },
    size: () => f.size(),
    close: () => f.close(),
  });
  const fs: FileLayer = {
    async open(path, flags, opts) {
      if (flags !== 'r') refuse(`open ${path}`, flags === 'r+' ? ['EROFS'] : ['EROFS', 'ENOSPC']);
      return wrap(await inner.open(path, flags, opts), flags !== 'r');
    },
    readdir: (d) => inner.readdir(d),
    async mkdir(d) {
      await inner.mkdir(d);
    },
    async rename(a, b) {
      refuse('rename', ['EROFS']);
      await inner.rename(a, b);
    },
    async unlink(p) {
      refuse('unlink', ['EROFS']);
      await inner.unlink(p);
    },
    async syncDir(d) {
      refuse('fsync dir', ['EROFS', 'EIO']);
      await inner.syncDir(d);
    },
    readFile: (p) => inner.readFile(p),
  };
  return Object.assign(state, { fs });
}
