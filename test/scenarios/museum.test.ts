import test from 'ava';
import { fileURLToPath } from 'node:url';
import { readTape } from '../../api/tape.ts';
import { BUGS, findScenario } from '../../scenarios/index.ts';
import { TapeReplay } from '../../sim/choice.ts';
import { runSimulation } from '../../sim/runner.ts';
import type { Strategy } from '../../sim/strategy.ts';

// The bug museum's shrunk tapes (written by `stairwell museum`) are kept under version control:
// each must still fail its bug's invariant, so a bug that comes back, or a change that moves the
// schedules, shows here.

for (const bug of BUGS) {
  test(`the museum's shrunk tape of ${bug.id} still fails ${bug.invariant}`, (t) => {
    const path = new URL(`../../museum/${bug.id.replace(/\//g, '__')}.json`, import.meta.url);
    const tape = readTape(fileURLToPath(path));
    t.is(tape.scenario, bug.scenario);
    t.deepEqual(tape.bugs, [bug.id]);
    const spec = findScenario(tape.scenario)!.spec(new Set(tape.bugs), tape.config);
    const replay = new TapeReplay(tape.choices.map((c) => c[2]), tape.choices.map((c) => c[0]));
    const r = runSimulation(spec, replay.recorder, { strategy: tape.strategy as Strategy });
    t.is(r.violation?.invariant, bug.invariant);
    t.is(replay.divergence, null, 'the tape still lines up with the code');
  });
}
