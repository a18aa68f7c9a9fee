// A progress line on stderr. On a terminal: one line, redrawn at most ten times a second, each
// time cleared to the end (no stale characters) and cut to the terminal's width; `clear()` takes
// it away before something else is printed, and the next update draws it again. Off a terminal
// (a CI log): a plain line every few seconds, only when it says something new. `quiet`: nothing.
//
// Hand-written rather than a progress-bar library: the ones on npm (cli-progress, progress) own
// the terminal between start and stop (cli-progress saves and restores the cursor position, so a
// finding printed in between is overwritten), while a sweep prints findings as it goes.

import { performance } from 'node:perf_hooks';

export interface ProgressOptions {
  readonly quiet: boolean;
  readonly stream?: NodeJS.WriteStream;
  /** Off a terminal: at most one line this often. */
  readonly plainEveryMs?: number;
}

const REDRAW_EVERY_MS = 100;
const PLAIN_EVERY_MS = 5_000;

export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #quiet: boolean;
  readonly #plainEveryMs: number;
  #shown = false;
  #lastAtMs = -Infinity;
  #lastText = '';

  constructor(options: ProgressOptions) {
    this.#stream = options.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
    this.#quiet = options.quiet;
    this.#plainEveryMs = options.plainEveryMs ?? PLAIN_EVERY_MS;
    // Off a terminal the first line waits an interval too: a short command prints none.
    if (!this.#tty) this.#lastAtMs = performance.now();
  }

  /** Show `text` (built by the caller only when `due()` says it would be shown). */
  update(text: string): void {
    if (!this.due()) return;
    this.#lastAtMs = performance.now();
    if (this.#tty) {
      const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
      this.#stream.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.#shown = true;
    } else if (text !== this.#lastText) {
      this.#stream.write(`${text}\n`);
    }
    this.#lastText = text;
  }

  /** Whether an update now would be drawn: lets callers skip building the text. */
  due(): boolean {
    if (this.#quiet) return false;
    return performance.now() - this.#lastAtMs >= (this.#tty ? REDRAW_EVERY_MS : this.#plainEveryMs);
  }

  /** Take the line away (on a terminal) before printing something else. */
  clear(): void {
    if (!this.#shown) return;
    this.#stream.write('\r\x1b[K');
    this.#shown = false;
    this.#lastAtMs = -Infinity; // draw again at the next update
  }
}

/** `1h02m`, `3m05s`, `42s`: an ETA or a duration, to the second. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86_400 * 365) return `${(s / (86_400 * 365)).toFixed(0)} years`;
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
