// A scenario is a named world: topology, workload, fault menu, oracle and liveness goals, plus
// the limits of one run. `spec(bugs)` builds what the runner runs, with the given bug switches on.

import type { Bugs } from '../ports/index.ts';
import type { RunLimits, RunSpec } from '../sim/runner.ts';
import type { FaultOption } from '../sim/nemesis.ts';

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly limits: RunLimits;
  /** The invariants and goals this scenario checks (ids from oracle/catalog.ts). */
  readonly invariants: readonly string[];
  readonly faultMenu: readonly FaultOption[];
  /** The coverage probes a sweep of its default seeds (1..2000) must reach: the paths its invariants guard. */
  readonly requiredProbes: readonly string[];
  spec(bugs: Bugs): RunSpec;
}
