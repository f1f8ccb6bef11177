/** The cloud: coordinator (registry, artifacts, placement, deploy), cloud worker, broker and HTTP API. */
export { startCloud, EMBEDDED_WORKER_ID, type Cloud, type CloudOptions } from './cloud.ts';
export { Coordinator, MAX_ARTIFACT_BYTES, type AppView, type CoordinatorOptions, type DeployRequest } from './coordinator.ts';
export { startHttpApi } from './http-api.ts';
export { parseSelector, selectorMatches, type GatewaySelector } from './selector.ts';
export { Registry, type AppRecord, type NodeRecord, type RegistryData } from './registry.ts';
