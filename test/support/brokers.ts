/**
 * Real brokers for integration tests: embedded aedes (always available) and Debian's
 * Mosquitto (when installed). Each listens on 127.0.0.1 on a free port and closes with `close()`.
 */
export { startAedes } from './start-aedes.ts';
export type { AedesTestBroker, AedesTestOptions } from './start-aedes.ts';
export { hasMosquitto, startMosquitto } from './start-mosquitto.ts';
export type { MosquittoBroker, MosquittoOptions } from './start-mosquitto.ts';
