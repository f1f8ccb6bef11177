import { describe, expect, it } from 'vitest';
import { assignPartitions } from './partition-assignment.ts';

describe('assignPartitions', () => {
  it('spreads new partitions over the online workers, fewest first, ties by id', () => {
    const out = assignPartitions([{ app: 'a', partitions: 4, owners: [] }, { app: 'b', partitions: 3, owners: [] }], ['w-2', 'w-1']);
    expect(out.get('a')).toEqual(['w-1', 'w-2', 'w-1', 'w-2']);
    expect(out.get('b')).toEqual(['w-1', 'w-2', 'w-1']);
  });

  it('keeps partitions on their online workers and moves only a dead worker\'s, to the least loaded', () => {
    const out = assignPartitions([{ app: 'a', partitions: 6, owners: ['w-1', 'w-2', 'w-3', 'w-1', 'w-2', 'w-3'] }], ['w-1', 'w-2', 'w-4']);
    expect(out.get('a')).toEqual(['w-1', 'w-2', 'w-4', 'w-1', 'w-2', 'w-4']);
  });

  it('leaves the owners as they are when no worker is online', () => {
    const out = assignPartitions([{ app: 'a', partitions: 2, owners: ['w-1', null] }], []);
    expect(out.get('a')).toEqual(['w-1', null]);
  });

  it('counts every app\'s partitions in a worker\'s load', () => {
    const out = assignPartitions([{ app: 'a', partitions: 2, owners: ['w-1', 'w-1'] }, { app: 'b', partitions: 2, owners: [] }], ['w-1', 'w-2']);
    expect(out.get('b')).toEqual(['w-2', 'w-2']);
  });
});

describe('assignPartitions after a coordinator restart', () => {
  it('keeps the partitions of a worker not heard from yet', () => {
    const out = assignPartitions([{ app: 'a', partitions: 2, owners: ['w-1', 'w-2'] }], ['w-1'], ['w-2']);
    expect(out.get('a')).toEqual(['w-1', 'w-2']);
  });
});
