/** One app's cloud partitions and the worker each is assigned to (`owners[p]`). */
export interface PartitionOwners {
  readonly app: string;
  readonly partitions: number;
  readonly owners: readonly (string | null)[];
}

/**
 * Assigns every app's cloud partitions to the online workers. Sticky: a partition stays with
 * its worker while that worker is online, since moving a live partition would run it twice
 * for a while. A partition whose worker is offline (its last-will), gone, or never chosen goes
 * to the online worker with the fewest partitions (ties: the lowest id), so a dead worker's
 * load spreads over the others. A partition of a worker in `unheard` (not heard from since the
 * coordinator started, so whether it is alive is not known yet) stays where it is. With no
 * worker online every owner stays as it was (null: none yet): the partitions wait for one.
 * Pure and deterministic: apps in name order, partitions in number order.
 *
 * @example
 * assignPartitions([{ app: 'plugs', partitions: 4, owners: ['w-1', 'w-2', 'w-1', 'w-2'] }], ['w-1', 'w-3'])
 * // Map { 'plugs' => ['w-1', 'w-3', 'w-1', 'w-3'] }
 */
export function assignPartitions(apps: readonly PartitionOwners[], online: readonly string[], unheard: readonly string[] = []): Map<string, (string | null)[]> {
  const load = new Map<string, number>(online.map((w) => [w, 0]));
  const live = new Set([...online, ...unheard]);
  const sorted = [...apps].sort((a, b) => a.app.localeCompare(b.app));
  const out = new Map<string, (string | null)[]>();
  for (const a of sorted) {
    const owners = Array.from({ length: a.partitions }, (_, p) => a.owners[p] ?? null);
    for (const w of owners) if (w !== null && load.has(w)) load.set(w, load.get(w)! + 1);
    out.set(a.app, owners);
  }
  const leastLoaded = (): string | undefined => {
    let best: string | undefined;
    for (const [w, n] of load) if (best === undefined || n < load.get(best)! || (n === load.get(best)! && w < best)) best = w;
    return best;
  };
  for (const a of sorted) {
    const owners = out.get(a.app)!;
    for (let p = 0; p < owners.length; p++) {
      const now = owners[p];
      if (now !== null && now !== undefined && live.has(now)) continue;
      const w = leastLoaded();
      if (w === undefined) continue;
      owners[p] = w;
      load.set(w, load.get(w)! + 1);
    }
  }
  return out;
}
