// JUnit XML, the format CI systems render as test results, built with junit-report-builder (a
// maintained library: escaping and the schema's attributes are its business, not ours).
// - sweep and merge: one testcase per scenario, failing with the first failure as its message
//   (invariant, seed, step) and every failure with its replay command in the body; a merge with a
//   missing or interrupted shard adds a failing testcase `shards`;
// - museum: one testcase per bug, failing if the bug was not found, its shrunk tape does not
//   replay, or the fixed protocol failed on the same seeds.

import type { ExhibitRow } from '../api/museum.ts';
import junitModule, { type Builder } from 'junit-report-builder';
import type { SweepFailure } from '../api/sweep-seed.ts';

// The package's types describe an ES default export, but it is CommonJS (`module.exports =
// builder`), so the default import is the builder itself.
const junit = junitModule as unknown as Builder;

/** What a sweep (or a merge of one) reports, as far as JUnit needs it. */
export interface SweepVerdict {
  readonly scenarios: readonly string[];
  readonly strategy: string;
  readonly range: string;
  readonly shard: string;
  readonly seeds: number;
  readonly failures: readonly SweepFailure[];
  readonly seconds: number;
  readonly complete: boolean;
  readonly stopped: string | null;
  readonly seedsByScenario: ReadonlyMap<string, number>;
  /** Merges only: shards missing or interrupted, each with why. */
  readonly shardProblems?: readonly string[];
}

/** Failures listed in one testcase's body at most; the JSON result has them all. */
const LISTED_FAILURES_MAX = 200;

export function sweepJunit(v: SweepVerdict, title: string): string {
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name(title).time(v.seconds);
  suite.property('strategy', v.strategy).property('seeds', v.range).property('shard', v.shard).property('complete', String(v.complete));
  if (v.stopped !== null) suite.property('stopped', v.stopped);
  for (const scenario of v.scenarios) {
    const mine = v.failures.filter((f) => f.scenario === scenario);
    const seeds = v.seedsByScenario.get(scenario) ?? 0;
    const test = suite.testCase().className('stairwell.sweep').name(scenario).standardOutput(`${seeds} seeds run`);
    const first = mine[0];
    if (first === undefined) continue;
    test.failure(`${mine.length} of ${seeds} seeds failed; first: seed ${first.seed}, ${first.invariant} at step ${first.step}: ${first.message}`, first.invariant);
    test.stacktrace(failureBody(mine));
  }
  if (v.shardProblems !== undefined && v.shardProblems.length > 0) {
    suite.testCase().className('stairwell.merge').name('shards').failure(`not every shard of the sweep is here and complete: ${v.shardProblems.join('; ')}`, 'shards');
  }
  return builder.build();
}

function failureBody(failures: readonly SweepFailure[]): string {
  const lines = failures.slice(0, LISTED_FAILURES_MAX).map((f) => `seed ${f.seed}: ${f.invariant} at step ${f.step}: ${f.message}\n  replay: ${f.replay}`);
  if (failures.length > LISTED_FAILURES_MAX) lines.push(`(${failures.length - LISTED_FAILURES_MAX} more; the --json result lists them all)`);
  return lines.join('\n');
}

/** What the JUnit report says of a bug: its exhibit (api/museum.ts) and where its tape is. */
export type MuseumVerdict = Pick<ExhibitRow, 'id' | 'scenario' | 'invariant' | 'found' | 'seedsToFind' | 'searchedSeeds' | 'reproduced' | 'fixedClean' | 'shrinkSeconds'> & { readonly tape: string | null };

export function museumJunit(rows: readonly MuseumVerdict[], strategy: string): string {
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name('stairwell museum').property('strategy', strategy);
  for (const r of rows) {
    const test = suite.testCase().className(`stairwell.museum.${r.scenario}`).name(r.id).time(r.shrinkSeconds ?? 0);
    const replay = r.tape === null ? null : `npx stairwell replay ${r.tape}`;
    if (!r.found) test.failure(`${r.id} was not found in ${r.searchedSeeds} seeds: the oracle no longer catches it with ${r.invariant}, or the search no longer reaches it`, 'missed');
    else if (!r.reproduced) test.failure(`the shrunk tape of ${r.id} does not fail ${r.invariant} when replayed`, 'not-reproduced').stacktrace(replay ?? '');
    else if (!r.fixedClean) test.failure(`the fixed protocol fails on the seeds that found ${r.id} (1..${r.seedsToFind})`, 'fixed-protocol-fails');
    else test.standardOutput(`found at seed ${r.seedsToFind} (${r.invariant}); replay: ${replay}`);
  }
  return builder.build();
}
