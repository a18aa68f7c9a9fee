import test from 'ava';
import type { Tables } from '../../model/crdb/tables.ts';
import { regionSnapshotReplacement } from '../../scenarios/region-snapshot-replacement.ts';
import { seededChoices } from '../../sim/choice.ts';
import { runSimulation, type RunOutcome } from '../../sim/runner.ts';
import { testSwitchesOf } from '../helpers/switch-sweeps.ts';

/** The budget: the fixed protocol survives these seeds, a bug switch fails within them. */
const SEEDS = 2000;

function run(bugs: readonly string[], seed: number): RunOutcome {
  return runSimulation(regionSnapshotReplacement.spec(new Set(bugs)), seededChoices(String(seed)));
}

/** The paths a clean sweep must reach to be a promise (probes), with how many runs must reach each. */
const PATHS: Readonly<Record<string, number>> = {
  'request Complete': 500,
  'request completed from Requested (target gone first)': 1,
  'step VolumeDeleted after its saga': 200,
  'step VolumeDeleted from Requested': 1,
  'a step told a Running VMM': 50,
  'a step unwound: VMM not Running': 10,
  'a start saga found the snapshot volume deleted': 20,
  'a snapshot deleted': 500,
  'everything deleted, nothing left': 500,
};

test(`the fixed protocol survives ${SEEDS} seeds of region-snapshot-replacement, reaching every path that matters`, (t) => {
  const counts = new Map<string, number>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = run([], seed);
    if (r.violation !== null) return t.fail(`seed ${seed}: ${r.violation.invariant}: ${r.violation.message}`);
    for (const p of reached(r)) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  for (const [path, least] of Object.entries(PATHS)) t.true((counts.get(path) ?? 0) >= least, `${path}: ${counts.get(path) ?? 0} runs, fewer than ${least}`);
});

/** The rare switch, checked at its first failing seed (its registry entry says how many seeds the museum sweeps). */
const RARE: Readonly<Record<string, number>> = { 'nexus/rsr-undo-drops-stash': 3189 };

testSwitchesOf('region-snapshot-replacement', run, { rare: RARE });

/** The paths that matter, read from a run's end state and its saga log. */
function reached(r: RunOutcome): Set<string> {
  const tables = r.sim.node('crdb').durable as Tables;
  const seen = new Set<string>();
  for (const q of tables.regionSnapshotReplacement.values()) {
    seen.add(`request ${q.state}`);
    if (q.state === 'Complete' && q.newRegionId === null) seen.add('request completed from Requested (target gone first)');
  }
  for (const s of tables.regionSnapshotReplacementStep.values()) {
    if (s.state === 'VolumeDeleted') seen.add(s.oldSnapshotVolumeId === null ? 'step VolumeDeleted from Requested' : 'step VolumeDeleted after its saga');
  }
  for (const saga of tables.saga.values()) {
    const notified = saga.outputs['notify_upstairs'];
    if (saga.name === 'region-snapshot-replacement-step' && notified === 'Started') seen.add('a step told a Running VMM');
    if (saga.name === 'region-snapshot-replacement-step' && saga.error?.includes('not in a state to receive request') === true) seen.add('a step unwound: VMM not Running');
    const swap = saga.outputs['replace_snapshot_in_volume'] as { result?: string } | string | undefined;
    if (saga.name === 'region-snapshot-replacement-start' && typeof swap === 'object' && swap.result?.startsWith('ExistingVolume') === true) seen.add('a start saga found the snapshot volume deleted');
    if (saga.name === 'snapshot-delete' && saga.state === 'Done') seen.add('a snapshot deleted');
  }
  const user = r.sim.node('user').process as { cleanedUp(): boolean } | null;
  if (user?.cleanedUp() === true && r.violation === null) seen.add('everything deleted, nothing left');
  return seen;
}
