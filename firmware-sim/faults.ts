/**
 * The realism a fleet can switch on, each kind on its own and all of them seeded: what the
 * user passes (`FaultOptions`, or a CLI list like `drop=0.05,spike,ooo`), parsed into a frozen
 * `FaultConfig` with every number filled in. Probabilities are per reading unless noted.
 */
import { ConfigError } from '../shared/errors.ts';

/** Every fault kind that can appear in ground truth. `label` comes from replayed datasets. */
export type FaultKind =
  | 'clock' | 'jitter' | 'burst' | 'out-of-order' | 'duplicate' | 'drop' | 'disconnect'
  | 'storm' | 'battery-low' | 'battery-empty' | 'stuck' | 'spike' | 'drift' | 'label';

/** User-facing fault switches: `true` takes the defaults, an object overrides some of them. */
export interface FaultOptions {
  /** Per-device clock offset (uniform in ±maxOffsetMs) and drift (±maxDriftPpm). */
  readonly clock?: boolean | { readonly maxOffsetMs?: number; readonly maxDriftPpm?: number };
  /** Sampling/sending delay, uniform in [0, maxMs). */
  readonly jitter?: boolean | { readonly maxMs?: number };
  /** With probability p, the device holds `size` readings and sends them at once. */
  readonly burst?: boolean | { readonly p?: number; readonly size?: number };
  /** With probability p, a reading is delayed by up to maxDelayMs, so later ones overtake it. */
  readonly outOfOrder?: boolean | { readonly p?: number; readonly maxDelayMs?: number };
  /** With probability p, a reading is sent twice. */
  readonly duplicate?: boolean | { readonly p?: number };
  /** With probability p, a reading is never sent (its seq is skipped). */
  readonly drop?: boolean | { readonly p?: number };
  /** With probability p per reading, the device goes offline for minMs..maxMs, buffering up to `buffer` readings. */
  readonly disconnect?: boolean | { readonly p?: number; readonly minMs?: number; readonly maxMs?: number; readonly buffer?: number };
  /** Every everyMs, `fraction` of the fleet drops off together and reconnects after downMs + up to spreadMs. */
  readonly storm?: boolean | { readonly everyMs?: number; readonly fraction?: number; readonly downMs?: number; readonly spreadMs?: number };
  /** Battery drains from 100% to empty in about lifeS seconds (±20% per device); empty devices stop. */
  readonly battery?: boolean | { readonly lifeS?: number };
  /** With probability p, the primary value freezes for `length` readings. */
  readonly stuck?: boolean | { readonly p?: number; readonly length?: number };
  /** With probability p, one primary value is multiplied by `factor` (or offset by factor × scale near 0). */
  readonly spike?: boolean | { readonly p?: number; readonly factor?: number };
  /** With probability p, the primary value drifts away by up to amount × scale over `length` readings. */
  readonly drift?: boolean | { readonly p?: number; readonly length?: number; readonly amount?: number };
}

/** Parsed faults: a kind that is off is `undefined`. */
export interface FaultConfig {
  readonly clock?: { readonly maxOffsetMs: number; readonly maxDriftPpm: number };
  readonly jitter?: { readonly maxMs: number };
  readonly burst?: { readonly p: number; readonly size: number };
  readonly outOfOrder?: { readonly p: number; readonly maxDelayMs: number };
  readonly duplicate?: { readonly p: number };
  readonly drop?: { readonly p: number };
  readonly disconnect?: { readonly p: number; readonly minMs: number; readonly maxMs: number; readonly buffer: number };
  readonly storm?: { readonly everyMs: number; readonly fraction: number; readonly downMs: number; readonly spreadMs: number };
  readonly battery?: { readonly lifeS: number };
  readonly stuck?: { readonly p: number; readonly length: number };
  readonly spike?: { readonly p: number; readonly factor: number };
  readonly drift?: { readonly p: number; readonly length: number; readonly amount: number };
}

const DEFAULTS = {
  clock: { maxOffsetMs: 2000, maxDriftPpm: 50 },
  jitter: { maxMs: 200 },
  burst: { p: 0.005, size: 5 },
  outOfOrder: { p: 0.01, maxDelayMs: 5000 },
  duplicate: { p: 0.01 },
  drop: { p: 0.01 },
  disconnect: { p: 0.001, minMs: 5000, maxMs: 60_000, buffer: 100 },
  storm: { everyMs: 300_000, fraction: 0.5, downMs: 5000, spreadMs: 2000 },
  battery: { lifeS: 86_400 },
  stuck: { p: 0.005, length: 20 },
  spike: { p: 0.005, factor: 5 },
  drift: { p: 0.002, length: 60, amount: 1 },
} as const satisfies Required<{ [K in keyof FaultConfig]: NonNullable<FaultConfig[K]> }>;

type Kind = keyof typeof DEFAULTS;
const KINDS = Object.keys(DEFAULTS) as Kind[];

/** CLI names (and aliases) for each fault switch. */
const CLI_NAMES: Readonly<Record<string, Kind>> = {
  clock: 'clock', jitter: 'jitter', burst: 'burst', ooo: 'outOfOrder', 'out-of-order': 'outOfOrder',
  dup: 'duplicate', duplicate: 'duplicate', drop: 'drop', disconnect: 'disconnect', storm: 'storm',
  battery: 'battery', stuck: 'stuck', spike: 'spike', drift: 'drift',
};

/** The fault names the CLI accepts, for help text. */
export const FAULT_CLI_NAMES: readonly string[] = Object.freeze(['clock', 'jitter', 'burst', 'ooo', 'dup', 'drop', 'disconnect', 'storm', 'battery', 'stuck', 'spike', 'drift']);

/**
 * Parses fault switches into a frozen config, checking every number.
 *
 * @example
 * const faults = parseFaults({ drop: { p: 0.05 }, spike: true });
 */
export function parseFaults(options: FaultOptions = {}): FaultConfig {
  const out: Record<string, unknown> = {};
  for (const kind of KINDS) {
    const given = options[kind];
    if (given === undefined || given === false) continue;
    const merged: Record<string, number> = { ...DEFAULTS[kind] };
    if (typeof given === 'object') {
      for (const [key, value] of Object.entries(given)) {
        if (!(key in merged)) {
          throw new ConfigError('SIM_FAULT_FIELD', `unknown setting "${key}" for fault "${kind}"`, {
            where: `faults.${kind}`, fix: `use one of: ${Object.keys(merged).join(', ')}`,
          });
        }
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || ((key === 'p' || key === 'fraction') && value > 1)) {
          throw new ConfigError('SIM_FAULT_VALUE', `fault setting ${kind}.${key} must be a ${key === 'p' || key === 'fraction' ? 'probability in 0..1' : 'non-negative number'}, got ${String(value)}`, {
            where: `faults.${kind}.${key}`, fix: `pass a number such as ${String(merged[key])}`,
          });
        }
        merged[key] = value;
      }
    }
    out[kind] = Object.freeze(merged);
  }
  return Object.freeze(out) as FaultConfig;
}

/**
 * Parses a CLI fault list: `all`, or comma-separated names with an optional probability
 * (`drop=0.05,spike,ooo`). Unknown names throw a ConfigError that lists the valid ones.
 */
export function parseFaultList(list: string): FaultOptions {
  const out: Record<string, unknown> = {};
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'all') {
      for (const kind of KINDS) out[kind] ??= true;
      continue;
    }
    const [name = '', value] = item.split('=', 2);
    const kind = CLI_NAMES[name];
    if (kind === undefined) {
      throw new ConfigError('SIM_FAULT_NAME', `unknown fault "${name}"`, {
        where: '--faults', fix: `use "all" or some of: ${FAULT_CLI_NAMES.join(', ')}`,
      });
    }
    if (value === undefined) {
      out[kind] = true;
      continue;
    }
    const p = Number(value);
    if (!('p' in DEFAULTS[kind]) || value === '' || !Number.isFinite(p)) {
      throw new ConfigError('SIM_FAULT_VALUE', `"${item}" is not a valid fault setting`, {
        where: '--faults', fix: 'write name=probability (0..1) for drop, dup, ooo, burst, disconnect, stuck, spike or drift',
      });
    }
    out[kind] = { p };
  }
  return out as FaultOptions;
}
