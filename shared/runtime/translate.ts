import type { OperatorSpec } from '../graph/index.ts';
import {
  ExecOp, FilterOp, FlatMapOp, KeyByOp, MapOp, PassOp, ProcessOp, SinkOp, SourceOp, WindowMergeOp, WindowOp, WindowPartialOp,
  aggregateLogic, joinLogic, type OpContext, type Operator, type SinkTarget,
} from '../ops/index.ts';

/**
 * Graph spec -> operator instance: one translator per kind, the only place that knows both
 * the model and the operators (Flink's TransformationTranslator, in one table).
 */
export function translate(spec: OperatorSpec, instance: number, ctx: OpContext, sinkTarget: (name: string) => SinkTarget): Operator {
  const c = spec.config;
  switch (c.kind) {
    case 'source': return new SourceOp(spec.id, instance, ctx, c.source);
    case 'map': return new MapOp(spec.id, instance, ctx, c.fn);
    case 'filter': return new FilterOp(spec.id, instance, ctx, c.fn);
    case 'flatMap': return new FlatMapOp(spec.id, instance, ctx, c.fn);
    case 'keyBy': return new KeyByOp(spec.id, instance, ctx, c.fn);
    case 'aggregate':
      // A planner-split aggregate: its partial at each gateway, its merge in the cloud.
      if (c.aggregate.stage === 'partial') return new WindowPartialOp(spec.id, instance, ctx, c.aggregate);
      if (c.aggregate.stage === 'merge') return new WindowMergeOp(spec.id, instance, ctx, c.aggregate);
      return new WindowOp(spec.id, 'aggregate', instance, ctx, c.aggregate, aggregateLogic(c.aggregate.aggregator));
    case 'join': return new WindowOp(spec.id, 'join', instance, ctx, c.join, joinLogic(c.join.combine));
    case 'union': return new PassOp(spec.id, 'union', instance, ctx);
    case 'late': return new PassOp(spec.id, 'late', instance, ctx);
    case 'process': return new ProcessOp(spec.id, instance, ctx, c.fn);
    case 'exec': return new ExecOp(spec.id, instance, ctx, c.exec);
    case 'sink': return new SinkOp(spec.id, instance, ctx, sinkTarget(spec.name));
  }
}
