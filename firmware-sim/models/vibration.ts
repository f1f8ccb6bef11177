/**
 * Vibration sensor on a machine: the machine moves between off, idle and run (a Markov chain),
 * and the sensor reports velocity RMS `rms` (mm/s) with the machine state. A slowly growing
 * wear term raises RMS while running, as bearing wear does.
 */
import type { DeviceModel, Reading } from './model.ts';
import { round } from './model.ts';

type MachineState = 'off' | 'idle' | 'run';

interface VibrationState {
  state: MachineState;
  wear: number;
  readonly base: number;
}

const LEVEL: Record<MachineState, number> = { off: 0.05, idle: 0.6, run: 2.8 };
// Mean dwell time in each state, in seconds.
const DWELL: Record<MachineState, number> = { off: 600, idle: 120, run: 900 };
const NEXT: Record<MachineState, readonly MachineState[]> = { off: ['idle'], idle: ['run', 'off'], run: ['idle'] };

export const vibrationModel: DeviceModel<VibrationState> = {
  name: 'vibration',
  units: { rms: 'mm/s' },
  primary: 'rms',
  scale: 3,
  init(rng) {
    const states: MachineState[] = ['off', 'idle', 'run'];
    return { state: states[rng.int(0, 2)] ?? 'idle', wear: 0, base: rng.range(0.8, 1.2) };
  },
  sample(s, rng, _time, dtMs): Reading {
    if (rng.chance(dtMs / 1000 / DWELL[s.state])) {
      const options = NEXT[s.state];
      s.state = options[rng.int(0, options.length - 1)] ?? s.state;
    }
    if (s.state === 'run') s.wear += (dtMs / 3_600_000) * 0.05;
    const level = LEVEL[s.state] * s.base + (s.state === 'run' ? s.wear : 0);
    const rms = Math.max(0, rng.normal(level, level * 0.08));
    return { rms: round(rms, 3), state: s.state };
  },
};
