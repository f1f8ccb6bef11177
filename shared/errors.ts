/**
 * The one error base of Sluice. Every error a user can meet says what happened, where,
 * and how to fix it; `code` is stable for programs, `retryable` tells callers whether
 * trying again can help (never decide that by matching message text).
 *
 * @example
 * throw new SluiceError('GRAPH_DUPLICATE_ID', 'two operators are named "parse"', {
 *   where: 'operator "parse"', fix: 'give one of them another .name(...)' });
 */
export class SluiceError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly where: string | undefined;
  readonly fix: string | undefined;

  constructor(
    code: string,
    what: string,
    opts: { where?: string; fix?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    const parts = [what];
    if (opts.where) parts.push(`at ${opts.where}`);
    if (opts.fix) parts.push(`fix: ${opts.fix}`);
    super(parts.join('; '), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.where = opts.where;
    this.fix = opts.fix;
  }
}

/** A user-facing configuration or validation mistake: the app, a flag, or an option. */
export class ConfigError extends SluiceError {
  constructor(code: string, what: string, opts: { where?: string; fix?: string; cause?: unknown } = {}) {
    super(code, what, opts);
    this.name = 'ConfigError';
  }
}

/** An I/O fault (disk, network, child process); often retryable. */
export class IoError extends SluiceError {
  constructor(
    code: string,
    what: string,
    opts: { where?: string; fix?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, what, { retryable: true, ...opts });
    this.name = 'IoError';
  }
}

/** Turns any thrown value into a one-line message for logs and dead letters. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
