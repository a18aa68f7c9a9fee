// How a command ends. Exit status (the contract CI relies on; docs/commands.md, "Exit status"):
//   0  clean: no violation (museum: every bug found and every fixed protocol clean; merge: every
//      shard present and complete)
//   1  a violation was found (or a museum bug was missed, or a merge lacks a shard)
//   2  bad usage or bad input: one line on stderr, checked before any work starts
//   3  an internal error: a bug in stairwell itself, never in the protocol under test (a failure
//      in protocol code is a finding with its seed); one line, the stack only with --debug
//   4  the work was done but an output could not be written; the line names where it was kept
//   130, 143  interrupted by SIGINT or SIGTERM; what was found so far is kept
// Each code but 0 and 1 comes from an error class below, so the top-level handler in main.ts
// maps an error to its code in one place.

import { InputError } from '../api/input-error.ts';

export const EXIT = {
  ok: 0,
  violation: 1,
  usage: 2,
  internal: 3,
  output: 4,
  interrupted: 130,
  terminated: 143,
} as const;

/** Bad usage or bad input: one line on stderr, exit 2 (as is the library's InputError: a bad tape, a scenario file that does not load). */
export class UsageError extends InputError {
  override name = 'UsageError';
}

export function usage(message: string): never {
  throw new UsageError(message);
}

/** A harness failure with what it was doing (a scenario and seed, a worker): exit 3. */
export class HarnessError extends Error {
  override name = 'HarnessError';
  readonly context: string;

  constructor(context: string, cause: unknown) {
    super(`${context}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.context = context;
  }
}

/** The stack of an error, its causes' included: what --debug prints. */
export function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error instanceof HarnessError && error.cause instanceof Error ? `${own}\ncaused by ${stackOf(error.cause)}` : own;
}
