/**
 * The few file operations the log needs, as an interface so tests can inject faults
 * (ENOSPC, EROFS, EIO) without a real full disk. `nodeFileLayer` is the real one.
 */
import { constants, promises as fsp } from 'node:fs';

/** The open(2) flags behind a writable `OpenFlags`, to add O_DSYNC to. */
function numericFlags(flags: Exclude<OpenFlags, 'r'>): number {
  const { O_RDWR, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL } = constants;
  if (flags === 'r+') return O_RDWR;
  return O_WRONLY | O_CREAT | (flags === 'w' ? O_TRUNC : O_EXCL);
}

/** An open file; positions are explicit so a retried write lands where the failed one began. */
export interface LogFile {
  /** Writes every byte of `buffers` at `position`, or throws. */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns bytes read. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  sync(): Promise<void>;
  /** Whether every write is on disk when it resolves (opened with `syncWrites`): no sync needed after it. */
  readonly syncsWrites: boolean;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** `r` read, `r+` read-write existing, `w` create or truncate, `wx` create new. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

export interface OpenOptions {
  /**
   * Each write resolves only once its bytes (and the file size) are on disk, as write + fdatasync
   * in one call (O_DSYNC). A layer may ignore it; its files then say `syncsWrites: false`.
   */
  readonly syncWrites?: boolean;
}

/**
 * Directory and file operations of a log. Implement it to run the log on another store or to
 * inject faults; every method may throw a node-style error with `code` (ENOSPC, EROFS, …).
 * @example const log = await openDiskLog(dir, { fs: createFaultyFileLayer().fs });
 */
export interface FileLayer {
  open(path: string, flags: OpenFlags, opts?: OpenOptions): Promise<LogFile>;
  readdir(dir: string): Promise<string[]>;
  /** Creates `dir` and its parents if missing. */
  mkdir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes renames and creations inside `dir` durable. */
  syncDir(dir: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}

class NodeLogFile implements LogFile {
  constructor(private readonly fh: fsp.FileHandle, readonly syncsWrites: boolean) {}

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    let pending = buffers.filter((b) => b.byteLength > 0);
    let pos = position;
    while (pending.length > 0) {
      const { bytesWritten } = await this.fh.writev(pending as Uint8Array[], pos);
      if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      pos += bytesWritten;
      let skip = bytesWritten;
      const rest: Uint8Array[] = [];
      for (const b of pending) {
        if (skip >= b.byteLength) skip -= b.byteLength;
        else {
          rest.push(skip > 0 ? b.subarray(skip) : b);
          skip = 0;
        }
      }
      pending = rest;
    }
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buffer, offset, length, position);
    return bytesRead;
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * The real file layer over `node:fs`; wrap it to count or fail operations in tests.
 * @example openDiskLog(dir, { fs: { ...nodeFileLayer, unlink: async () => {} } }) // keep files
 */
export const nodeFileLayer: FileLayer = Object.freeze({
  async open(path: string, flags: OpenFlags, opts?: OpenOptions): Promise<LogFile> {
    const syncWrites = opts?.syncWrites === true && flags !== 'r';
    return new NodeLogFile(await fsp.open(path, syncWrites ? numericFlags(flags) | constants.O_DSYNC : flags), syncWrites);
  },
  readdir: (dir: string) => fsp.readdir(dir),
  async mkdir(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
  },
  rename: (from: string, to: string) => fsp.rename(from, to),
  unlink: (path: string) => fsp.unlink(path),
  async syncDir(dir: string): Promise<void> {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } catch (err) {
      // Some file systems refuse fsync on a directory; their renames are already ordered.
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    } finally {
      await fh.close();
    }
  },
  readFile: (path: string) => fsp.readFile(path),
});
