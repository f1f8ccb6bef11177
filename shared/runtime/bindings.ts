import type { Readable, Writable } from 'node:stream';
import type { SinkTarget } from '../ops/index.ts';

/** Where a named source reads from. */
export type SourceBinding =
  | { readonly type: 'file'; readonly path: string }
  | { readonly type: 'stdin' }
  | { readonly type: 'stream'; readonly stream: Readable; readonly label?: string }
  /** Text lines, parsed by the source's format. */
  | { readonly type: 'lines'; readonly lines: Iterable<string> | AsyncIterable<string> }
  /** Values already parsed (format `object` or any format: parsing is skipped). */
  | { readonly type: 'values'; readonly values: Iterable<unknown> | AsyncIterable<unknown> }
  /** Events and watermarks pushed by something else (a channel receiver); ends when it resolves. */
  | { readonly type: 'push'; readonly attach: (into: PushTarget) => Promise<void> };

/** What a pushing source (a channel) delivers into: events already stamped, and watermarks. */
export interface PushTarget {
  events(items: readonly { ts: number; key?: unknown; value: unknown }[]): void;
  watermark(wm: number): void;
}

/** Where a named sink (or the dead-letter stream) writes. */
export type SinkBinding =
  /** A JSON-lines file, replaced — or, with `append`, added to (a part restarted after a crash). */
  | { readonly type: 'file'; readonly path: string; readonly append?: boolean }
  | { readonly type: 'stdout' }
  | { readonly type: 'stderr' }
  | { readonly type: 'stream'; readonly stream: Writable }
  | { readonly type: 'collect'; readonly onEvent: (value: unknown, ts: number, key: unknown) => void; readonly onWatermark?: (wm: number) => void }
  | { readonly type: 'target'; readonly target: SinkTarget };

/** Parses `-` as stdio and anything else as a file path (the CLI's `--in NAME=PATH|-`). */
export function sourceFromArg(arg: string): SourceBinding {
  return arg === '-' ? { type: 'stdin' } : { type: 'file', path: arg };
}

export function sinkFromArg(arg: string): SinkBinding {
  return arg === '-' ? { type: 'stdout' } : { type: 'file', path: arg };
}
