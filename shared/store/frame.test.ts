import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor-file.ts';
import { FRAME_BAD, FRAME_HEADER_BYTES, FRAME_SHORT, parseFrame, scanFrames, writeFrame } from './frame.ts';

function frames(payloads: Uint8Array[]): Buffer {
  const buf = Buffer.alloc(payloads.reduce((n, p) => n + FRAME_HEADER_BYTES + p.byteLength, 0));
  let at = 0;
  payloads.forEach((p, i) => (at = writeFrame(buf, at, i + 1, 1000 + i, i % 3, p)));
  return buf;
}

describe('frames', () => {
  it('round-trips seq, ts, priority and payload', () => {
    const buf = frames([new Uint8Array([1, 2, 3]), new Uint8Array(0)]);
    const seen: number[] = [];
    const r = scanFrames(buf, 0, buf.byteLength, 0, 1 << 20, (_at, _len, seq) => seen.push(seq));
    expect(seen).toEqual([1, 2]);
    expect(r).toMatchObject({ goodEnd: buf.byteLength, badTail: false, bad: [] });
    expect(buf.readDoubleLE(16)).toBe(1000);
    expect(buf[24]).toBe(0);
  });

  it('calls a frame cut short SHORT and a frame with a wrong CRC BAD', () => {
    const buf = frames([new Uint8Array(10).fill(7)]);
    expect(parseFrame(buf, 0, buf.byteLength - 1, 0, 1 << 20)).toBe(FRAME_SHORT);
    buf[FRAME_HEADER_BYTES + 3] = (buf[FRAME_HEADER_BYTES + 3] ?? 0) ^ 1;
    expect(parseFrame(buf, 0, buf.byteLength, 0, 1 << 20)).toBe(FRAME_BAD);
  });

  it('detects any single flipped bit and loses only the record it hit', () => {
    const payloads = Array.from({ length: 6 }, (_, i) => new Uint8Array(20 + i).fill(i));
    const clean = frames(payloads);
    fc.assert(
      fc.property(fc.nat(clean.byteLength * 8 - 1), (bit) => {
        const buf = Buffer.from(clean);
        buf[bit >> 3] = (buf[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        const seen: number[] = [];
        const r = scanFrames(buf, 0, buf.byteLength, 0, 1 << 20, (_a, _l, seq) => seen.push(seq));
        // Which frame the bit sits in: that one (and only it) may be missing.
        let at = 0;
        let hit = 0;
        payloads.forEach((p, i) => {
          if (bit >> 3 >= at && bit >> 3 < at + FRAME_HEADER_BYTES + p.byteLength) hit = i + 1;
          at += FRAME_HEADER_BYTES + p.byteLength;
        });
        expect(seen).not.toContain(hit);
        expect(seen.filter((s) => s !== hit)).toEqual([1, 2, 3, 4, 5, 6].filter((s) => s !== hit));
        expect(r.bad.length + (r.badTail ? 1 : 0)).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('cursor file encoding', () => {
  it('round-trips and refuses damaged bytes', () => {
    const b = encodeCursor({ acked: 41, head: 42, epoch: 1_796_142_866_175 });
    expect(decodeCursor(b)).toEqual({ acked: 41, head: 42, epoch: 1_796_142_866_175 });
    for (let i = 0; i < 36; i++) {
      const bad = Buffer.from(b);
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(decodeCursor(bad)).toBeUndefined();
    }
    expect(decodeCursor(b.subarray(0, 10))).toBeUndefined();
  });

  it('reads a version 1 cursor (written before epochs) as epoch 0', () => {
    // Magic, version 1, acked, head, CRC-32 of the 24 bytes before it, 4 spare bytes.
    const v1 = Buffer.alloc(32);
    v1.writeUInt32LE(0x55434c53, 0);
    v1.writeUInt32LE(1, 4);
    v1.writeDoubleLE(41, 8);
    v1.writeDoubleLE(42, 16);
    v1.writeUInt32LE(crc32(v1.subarray(0, 24)), 24);
    expect(decodeCursor(v1)).toEqual({ acked: 41, head: 42, epoch: 0 });
  });
});
