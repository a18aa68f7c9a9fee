import test from 'ava';
import type { ControlProcess } from '../../model/crucible/control-plane.ts';
import type { GuestOp, GuestProcess } from '../../model/crucible/guest.ts';
import type { UpstairsProcess } from '../../model/crucible/upstairs/node.ts';
import { testSwitchesOf } from '../helpers/switch-sweeps.ts';
import { crucibleActivation } from '../../scenarios/crucible-activation.ts';
import { crucibleReplacement } from '../../scenarios/crucible-replacement.ts';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import type { Scenario } from '../../api/scenario.ts';
import { seededChoices } from '../../sim/choice.ts';
import { runSimulation, type RunOutcome } from '../../sim/runner.ts';

/** The budget: the fixed protocol survives these seeds, a bug switch fails within them. */
const SEEDS = 2000;
const CRUCIBLE: readonly Scenario[] = [crucibleActivation, crucibleTakeover, crucibleReplacement];

function run(scenario: Scenario, bugs: readonly string[], seed: number): RunOutcome {
  return runSimulation(scenario.spec(new Set(bugs)), seededChoices(String(seed)));
}

for (const scenario of CRUCIBLE) {
  test(`the fixed protocol survives ${SEEDS} seeds of ${scenario.name}`, (t) => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = run(scenario, [], seed);
      if (r.violation !== null) return t.fail(`seed ${seed}: ${r.violation.invariant}: ${r.violation.message}`);
    }
    t.pass();
  });
}

for (const scenario of CRUCIBLE) testSwitchesOf(scenario.name, (bugs, seed) => run(scenario, bugs, seed), { firstFailureIsIt: true });

function upstairsOf(r: RunOutcome, id: string): UpstairsProcess {
  return r.sim.node(id).process as UpstairsProcess;
}

test('crucible-takeover takes over for real: the target ends Active, the source Disabled, in most runs', (t) => {
  let takenOver = 0;
  let sourceDisabled = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = run(crucibleTakeover, [], seed);
    if (upstairsOf(r, 'upstairs-b').upstairs.state.kind === 'Active') takenOver++;
    if (upstairsOf(r, 'upstairs-a').upstairs.state.kind === 'Disabled') sourceDisabled++;
  }
  t.true(takenOver > 60, `${takenOver}/100 taken over`);
  t.true(sourceDisabled > 40, `${sourceDisabled}/100 sources Disabled`);
});

test('crucible-activation re-activates after upstairs crashes, at a higher generation, and ends Active', (t) => {
  let reactivated = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = run(crucibleActivation, [], seed);
    const control = r.sim.node('control').process as ControlProcess;
    const gen = control.activated.get('upstairs-a') ?? 0;
    if (gen > 1 && upstairsOf(r, 'upstairs-a').upstairs.state.kind === 'Active') reactivated++;
  }
  t.true(reactivated > 10, `${reactivated}/100 re-activated`);
});

test('crucible-replacement replaces for real: both new targets serve, repaired live or reconciled', (t) => {
  let both = 0;
  let refusedAsBusy = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = run(crucibleReplacement, [], seed);
    const targets = upstairsOf(r, 'upstairs-a').upstairs.clients.map((c) => c.address);
    if (targets.join() === 'ds-4,ds-5,ds-3') both++;
    const control = r.sim.node('control').process as ControlProcess;
    if (control.replacements.some((s) => s.attempts > 1)) refusedAsBusy++;
  }
  t.is(both, 100);
  t.true(refusedAsBusy > 5, `${refusedAsBusy}/100 asked more than once`);
});

test('crucible-activation deactivates for real: a final flush, Initializing, then Active again a generation up', (t) => {
  let deactivated = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = run(crucibleActivation, [], seed);
    const control = r.sim.node('control').process as ControlProcess;
    if ([...control.requests.values()].some((q) => q.kind === 'deactivate' && q.ok === true)) deactivated++;
  }
  t.true(deactivated > 70, `${deactivated}/100 deactivated`);
});

test("the guests' IO gives the data checker something to check: overwrites, fresh reads, flushes, two in flight, new epochs", (t) => {
  let overwrites = 0;
  let readsOfWrites = 0;
  let flushes = 0;
  let overlapped = 0;
  let laterEpochReads = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = run(crucibleActivation, [], seed);
    const history = (r.sim.node('guest-1').process as GuestProcess).history;
    const written = new Set<string>();
    const inFlight = new Set<string>();
    const ops = new Map<string, GuestOp>();
    const epochs: string[] = [];
    for (const e of history) {
      if (e.type === 'invoke') {
        ops.set(e.opId, e.op);
        inFlight.add(e.opId);
        if (inFlight.size > 1) overlapped++;
        if (e.op.f === 'flush') flushes++;
        if (e.op.f !== 'write') continue;
        if (written.has(`${e.op.extent}/${e.op.block}`)) overwrites++;
        written.add(`${e.op.extent}/${e.op.block}`);
        continue;
      }
      inFlight.delete(e.opId);
      if (e.type !== 'ok' || ops.get(e.opId)?.f !== 'read') continue;
      if (e.value !== null) readsOfWrites++;
      if (epochs.length > 0 && !epochs.includes(e.epoch)) laterEpochReads++;
      if (!epochs.includes(e.epoch)) epochs.push(e.epoch);
    }
  }
  t.true(overwrites > 300, `${overwrites} writes to a block written before`);
  t.true(readsOfWrites > 120, `${readsOfWrites} reads that saw a write`);
  t.true(flushes > 150, `${flushes} flushes`);
  t.true(overlapped > 200, `${overlapped} requests issued with another in flight`);
  t.true(laterEpochReads > 15, `${laterEpochReads} reads in an epoch after the first`);
});
