/**
 * What every node runs to host fragments: the reconcile loop from a desired state to running
 * app parts, artifacts fetched by hash and kept on disk, and offline resumption.
 */
export { FragmentHost, type FragmentHostOptions } from './fragment-host.ts';
export { AppRunner, sinkFile, type AppRunnerOptions, type BoundSources, type SourceBinder } from './app-runner.ts';
export { ArtifactCache } from './artifact-cache.ts';
export { startNodeAgent, type NodeAgent, type NodeAgentOptions } from './node-agent.ts';
export { measureCapabilities } from './capabilities.ts';
