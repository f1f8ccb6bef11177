import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { parseLogOptions, type LogOptions } from './options.ts';

describe('parseLogOptions', () => {
  it('fills defaults into a frozen config without touching the caller object', () => {
    const opts: LogOptions = { maxBytes: 8 << 20 };
    const cfg = parseLogOptions(opts);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(opts).toEqual({ maxBytes: 8 << 20 });
    expect(cfg).toMatchObject({ overflow: 'drop-oldest', groupCommitMs: 5, segmentBytes: 1 << 20, maxAgeMs: Infinity });
    expect(parseLogOptions({}, 'memory').maxBytes).toBe(64 << 20);
  });

  it('names the bad field and how to fix it', () => {
    const bad = (o: LogOptions): unknown => {
      try {
        parseLogOptions(o);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(bad({ groupCommitMs: 51 })).toMatchObject({ code: 'STORE_BAD_OPTION', where: 'options.groupCommitMs' });
    expect(bad({ overflow: 'oldest' as never })).toBeInstanceOf(ConfigError);
    expect(bad({ maxBytes: 8192, maxRecordBytes: 10_000 })).toMatchObject({ where: 'options.maxRecordBytes' });
    expect(bad({ maxBytes: Number.NaN })).toMatchObject({ where: 'options.maxBytes' });
  });
});
