/** Placement: which part of the system runs each operator, and why. Deterministic, no I/O. */
export {
  placeOperators, outputPart, DECOMPOSABLE,
  type Part, type Where, type PlacementRule, type OperatorPlacement,
} from './rules.ts';
export { planApp, PARTIAL_SUFFIX, type AppPlan, type OperatorPlan, type ChannelCut } from './plan.ts';
export { assignParts, type PartAssignment } from './parts.ts';
export { cloudPartitioning, type CloudPartitioning } from './partitioning.ts';
