// One test per bug switch of a scenario, as the registry promises it: a sweep of seeds 1..N (its
// sweepSeeds, else 2000) finds it on its invariant; a rare race is checked at its known seed
// instead, with the fixed protocol clean on that seed.

import test from 'ava';
import { BUGS } from '../../scenarios/index.ts';
import type { RunOutcome } from '../../sim/runner.ts';

const SEEDS = 2000;

export interface SwitchSweepOptions {
  /** Switches checked at one seed (their first failing one) rather than swept. */
  readonly rare?: Readonly<Record<string, number>>;
  /** The first failing seed must fail the registry's invariant (no other invariant first). */
  readonly firstFailureIsIt?: boolean;
}

export function testSwitchesOf(scenario: string, run: (bugs: readonly string[], seed: number) => RunOutcome, options: SwitchSweepOptions = {}): void {
  for (const bug of BUGS.filter((b) => b.scenario === scenario)) {
    const rare = options.rare?.[bug.id];
    if (rare !== undefined) {
      test(`${bug.id} fails ${bug.invariant} at seed ${rare} (a rare race), and the fixed protocol does not`, (t) => {
        t.is(run([bug.id], rare).violation?.invariant, bug.invariant);
        t.is(run([], rare).violation, null);
      });
      continue;
    }
    const seeds = bug.sweepSeeds ?? SEEDS;
    test(`a sweep of ${scenario} finds ${bug.id} within ${seeds} seeds, on ${bug.invariant}`, (t) => {
      for (let seed = 1; seed <= seeds; seed++) {
        const violation = run([bug.id], seed).violation;
        if (violation === null || (violation.invariant !== bug.invariant && options.firstFailureIsIt !== true)) continue;
        t.is(violation.invariant, bug.invariant, `seed ${seed}: ${violation.message}`);
        return;
      }
      t.fail('not found');
    });
  }
}
