/** Built-in operators, one file each; the runtime translates graph specs into these. */
export { Operator, WatermarkMerge, NO_OUTPUT, type Collector, type OpContext, type StatusEvent, type DeadLetter } from './operator.ts';
export { OpMetrics, Histogram } from './metrics.ts';
export { SourceOp, toMillis } from './source.ts';
export { MapOp } from './map.ts';
export { FilterOp } from './filter.ts';
export { FlatMapOp } from './flat-map.ts';
export { KeyByOp } from './key-by.ts';
export { PassOp } from './pass.ts';
export { SinkOp, type SinkTarget } from './sink.ts';
export { WindowOp } from './window.ts';
export { WindowPartialOp, type PartialMessage } from './window-partial.ts';
export { WindowMergeOp } from './window-merge.ts';
export { aggregateLogic, joinLogic } from './window-logic.ts';
export { ProcessOp } from './process.ts';
export { ExecOp } from './exec.ts';
export { TimeHeap } from './heap.ts';
