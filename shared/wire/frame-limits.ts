/** Bounds on decoding channel frames: size, events per frame, producer id length. No node: imports. */
import { SluiceError } from '../errors.ts';

/** What a user passes to bound decoding; every field optional. */
export interface FrameLimitsOptions {
  /** Largest encoded frame accepted, in bytes. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Most events one data frame may carry. Default 10,000. */
  readonly maxEvents?: number;
  /** Longest producer id, in UTF-16 code units. Default 256. */
  readonly maxProducerLength?: number;
}

/** Parsed, frozen limits; build with `parseFrameLimits`. */
export interface FrameLimits {
  readonly maxBytes: number;
  readonly maxEvents: number;
  readonly maxProducerLength: number;
}

/** The limits used when none are given. */
export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxEvents: 10_000,
  maxProducerLength: 256,
});

/**
 * Parses limit options into a frozen `FrameLimits`, filling defaults.
 *
 * @example
 * const limits = parseFrameLimits({ maxBytes: 256 * 1024 });
 * const result = decodeFrame(bytes, limits);
 */
export function parseFrameLimits(options: FrameLimitsOptions = {}): FrameLimits {
  const pick = (name: keyof FrameLimitsOptions): number => {
    const value = options[name];
    if (value === undefined) return DEFAULT_FRAME_LIMITS[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SluiceError('WIRE_BAD_LIMIT', `frame limit ${name} must be a positive integer, got ${String(value)}`, {
        where: `frame limits option "${name}"`,
        fix: `pass a whole number of at least 1, or leave it out for ${DEFAULT_FRAME_LIMITS[name]}`,
      });
    }
    return value;
  };
  return Object.freeze({
    maxBytes: pick('maxBytes'),
    maxEvents: pick('maxEvents'),
    maxProducerLength: pick('maxProducerLength'),
  });
}
