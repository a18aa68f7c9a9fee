// What `sweep --json` writes and `merge` reads and writes (docs/commands.md, "JSON output"), and the
// summary lines both print.

import type { Covered } from '../api/sweep-plan.ts';
import type { SweepFailure } from '../api/sweep-seed.ts';

/** Why a sweep ended before its last seed: a budget it was given, or a signal. */
export type StopReason = 'seconds' | 'max-failures' | 'interrupted';

export interface SweepJson {
  readonly scenarios: readonly string[];
  readonly bugs: readonly string[];
  readonly strategy: string;
  /** The seeds, as --seeds takes them: `1..1000` or `random:1000@3141592653`. */
  readonly range: string;
  readonly shard: string;
  /** Seeds the sweep would run in all (every scenario counted). */
  readonly total: number;
  /** Seeds it ran. */
  readonly seeds: number;
  /** How many seeds failed; `failures` lists them (the first FAILURES_KEPT_MAX, if more). */
  readonly failureCount: number;
  readonly failures: readonly SweepFailure[];
  readonly ok: boolean;
  readonly steps: number;
  readonly seconds: number;
  readonly seedsPerSecond: number;
  /** Every seed ran. False while the sweep runs, and when it stopped early (`stopped` says why). */
  readonly complete: boolean;
  readonly stopped: StopReason | null;
  /** For each scenario, the seeds covered from the first on: with a budget, where it got to. */
  readonly covered: readonly Covered[];
  /** The process's peak resident memory so far, worker threads included (merge: the largest shard's). */
  readonly peakRssMb: number;
  /** With --probes: per scenario, the runs that reached each probe, and the required ones no run reached. */
  readonly probes?: readonly ProbeReport[];
}

export interface ProbeReport {
  readonly scenario: string;
  readonly seeds: number;
  /** Runs that reached each probe, by name. */
  readonly hit: Readonly<Record<string, number>>;
  /** The scenario's required probes that no run reached. */
  readonly missing: readonly string[];
}

/** `sweep --probes`: each scenario's probes, the runs that reached each (required ones marked *), and what was missed. */
export function probeLines(reports: readonly ProbeReport[], required: (scenario: string) => readonly string[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    const want = new Set(required(r.scenario));
    const names = [...new Set([...Object.keys(r.hit), ...want])].sort();
    lines.push(`probes of ${r.scenario} (${r.seeds} seeds): ${want.size - r.missing.length} of ${want.size} required reached, ${Object.keys(r.hit).length} reached in all`);
    for (const name of names) lines.push(`  ${want.has(name) ? '*' : ' '} ${String(r.hit[name] ?? 0).padStart(7)}  ${name}`);
    if (r.missing.length > 0) lines.push(`  required, never reached: ${r.missing.join(', ')}`);
  }
  return lines;
}

/** A sweep keeps at most this many failures in memory and in its JSON; it counts them all. */
export const FAILURES_KEPT_MAX = 100_000;
export const PRINTED_FAILURES_MAX = 20;

export function summaryLines(r: SweepJson): string[] {
  const count = r.failureCount ?? r.failures.length;
  const lines = [`${r.scenarios.join(', ')}: ${r.seeds} seeds, ${count} failed (${r.seconds.toFixed(1)}s, ${r.seedsPerSecond.toFixed(0)} seeds/s)`];
  if (r.stopped === 'seconds' || r.stopped === 'max-failures') {
    const why = r.stopped === 'seconds' ? 'its time budget' : 'its failure budget';
    lines.push(`  stopped by ${why} after ${r.seeds} of ${r.total} seeds; covered: ${coveredText(r.covered)}`);
  }
  if (count > PRINTED_FAILURES_MAX) lines.push(`  (${count - PRINTED_FAILURES_MAX} more failures not printed; --json lists ${count > r.failures.length ? `the first ${r.failures.length}` : 'them all'})`);
  const first = r.failures[0];
  if (first !== undefined) lines.push(`first failure: ${first.scenario} seed ${first.seed}, ${first.invariant} at step ${first.step}`, `replay: ${first.replay}`);
  return lines;
}

export function coveredText(covered: readonly Covered[]): string {
  return covered.map((c) => `${c.scenario} ${c.seeds} seeds${c.through === null ? '' : ` through ${c.through}`}`).join(', ');
}
