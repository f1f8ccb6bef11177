/** The gateway agent: local broker for devices, fragment host, offline autonomy. */
export { startEdgeAgent, type EdgeAgent, type EdgeAgentOptions } from './agent.ts';
export { deviceSources, type DeviceInputStats } from './device-source.ts';
