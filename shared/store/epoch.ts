let last = 0;

/**
 * A new epoch for a log made anew: the time now in ms (later than any epoch made before it on
 * a clock that keeps time), and always later than the last one made in this process.
 */
export function newEpoch(): number {
  last = Math.max(Date.now(), last + 1);
  return last;
}
