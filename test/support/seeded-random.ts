/** Tests use the simulator's seeded random source (mulberry32): one generator in the house. */
export { createRandom as createSeededRandom, type Random as SeededRandom } from '../../firmware-sim/random.ts';
