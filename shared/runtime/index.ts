/** Executes a graph (or, later, a fragment of one): fused operator chains, back-pressure, metrics. */
export { startRun, DEAD_LETTER, type Run, type RunOptions, type RunSummary } from './run.ts';
export { sourceFromArg, sinkFromArg, type SourceBinding, type SinkBinding, type PushTarget } from './bindings.ts';
export { buildFragment, type Fragment } from './fragment.ts';
export { snapshotMetrics, type MetricsSnapshot, type OperatorMetrics } from './metrics.ts';
export { hashKey, partitionOf } from './partition.ts';
export { Gate } from './gate.ts';
export { loadArtifact, artifactHash, API_GLOBAL, API_EXPORTS } from './artifact.ts';
export { splitGraph, channelBinding, type GraphPart, type ChannelCut } from './split.ts';
