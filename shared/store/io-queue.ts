/** Runs file work one task at a time, in order, so commits, cursor writes and deletions never interleave. */
export class IoQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `task`; the returned promise settles with it. A failure never blocks later tasks. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
