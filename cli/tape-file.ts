// Writing tapes from the command line: through cli/outputs.ts, so a tape that cannot be written
// where it was asked is kept elsewhere and the command says where (exit 4).

import { execute } from '../api/execute.ts';
import type { Scenario } from '../api/scenario.ts';
import { tapeOf, tapeText, type TapeFile } from '../api/tape.ts';
import type { RunOutcome } from '../sim/runner.ts';
import type { Strategy } from '../sim/strategy.ts';
import { join } from 'node:path';
import { outputs } from './outputs.ts';

/** Write a tape; if it cannot be written there it is kept elsewhere. Returns where it went. */
export function writeTape(path: string, tape: TapeFile, what = 'the tape'): string {
  return outputs.write(path, tapeText(tape), what);
}

/** Write a failing run's tape under `dir` and return where it went; `outcome` is run again from the seed if not given. */
export function saveFailureTape(dir: string, scenario: Scenario, bugs: readonly string[], strategy: Strategy, seed: number, outcome: RunOutcome | null): string {
  const path = join(dir, `${scenario.name}-${strategy}-${seed}.json`);
  return writeTape(path, tapeOf(outcome ?? execute({ scenario, bugs, seed, strategy }).outcome, { scenario, bugs, strategy, seed }), "a failing run's tape");
}
