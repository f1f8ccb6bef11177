/** Placement: which part of the system runs each operator. Deterministic, no I/O. */
export { assignParts, type Part, type PartAssignment } from './parts.ts';
