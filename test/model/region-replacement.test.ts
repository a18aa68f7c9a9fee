import test from 'ava';
import type { VmmState } from '../../model/common/vmm-state.ts';
import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import { VCRS_HAVE_NO_DIFFERENCE, type Vcr } from '../../model/crucible/vcr.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { executeSaga } from '../../model/nexus/saga/executor.ts';
import type { SagaOutcome } from '../../model/nexus/saga/saga.ts';
import { regionReplacementDrive } from '../../model/nexus/sagas/region-replacement-drive.ts';
import type { CallResult, Env } from '../../ports/index.ts';
import type { PropolisReply } from '../../model/propolis/api.ts';
import { run } from '../helpers/db.ts';
import { driveFlow, type Call } from '../helpers/drive-flow.ts';
import { instanceRow, NEXUS_CONFIG } from '../helpers/records.ts';

// Region replacement in the database (omicron b848b6df85 datastore/volume.rs and
// region_replacement.rs) and the drive saga's decisions, state by state
// (region_replacement_drive.rs check_from_previous_propolis_step, prepare, execute).

function vcr(targets: readonly string[], gen: number): Vcr {
  return {
    type: 'Volume',
    id: 'volume-1',
    blockSize: 512,
    readOnlyParent: null,
    subVolumes: [{ type: 'Region', blockSize: 512, blocksPerExtent: 4, extentCount: 4, gen, opts: { id: 'up-1', target: targets, lossy: false, flushTimeout: null, key: null, certPem: null, keyPem: null, rootCertPem: null, control: null, readOnly: false } }],
  };
}

function regionGen(v: Vcr): number {
  return v.type === 'Volume' && v.subVolumes[0]!.type === 'Region' ? v.subVolumes[0]!.gen : -1;
}

function targetsOf(v: Vcr): readonly string[] {
  return v.type === 'Volume' && v.subVolumes[0]!.type === 'Region' ? v.subVolumes[0]!.opts.target : [];
}

/** A disk on volume-1 (ds-1..3), attached to inst-1, with ds-4 spare; region-ds-1 to be replaced. */
function storage(): Tables {
  const tables = emptyTables();
  tables.volume.set('volume-1', { id: 'volume-1', vcr: vcr(['ds-1', 'ds-2', 'ds-3'], 1), timeDeleted: null });
  tables.disk.set('disk-1', { id: 'disk-1', instanceId: 'inst-1', volumeId: 'volume-1' });
  for (const ds of ['ds-1', 'ds-2', 'ds-3']) tables.region.set(`region-${ds}`, { id: `region-${ds}`, volumeId: 'volume-1', downstairs: ds, timeDeleted: null, dataset: ds, readOnly: false, deleting: false });
  for (const ds of ['ds-1', 'ds-2', 'ds-3', 'ds-4']) tables.physicalDisk.set(ds, { expunged: false });
  return tables;
}

test('volume_checkout: the database keeps the generation one up, the caller gets the VCR as it was (volume.rs volume_checkout)', (t) => {
  const tables = storage();
  const first = run(tables, { type: 'VolumeCheckoutForInstance', instanceId: 'inst-1' }).disks;
  t.is(regionGen(first[0].vcr), 1, 'the caller activates with the stored generation');
  t.is(regionGen(tables.volume.get('volume-1')!.vcr), 2, 'the database is one ahead');
  const second = run(tables, { type: 'VolumeCheckoutForInstance', instanceId: 'inst-1' }).disks;
  t.is(regionGen(second[0].vcr), 2, 'the next VMM outranks the one before');
  t.is(regionGen(tables.volume.get('volume-1')!.vcr), 3);
});

test('volume_replace_region swaps the target and bumps the generation; swapping back works too (test_volume_replace_region)', (t) => {
  const tables = storage();
  tables.region.set('region-new', { id: 'region-new', volumeId: 'volume-1-new', downstairs: 'ds-4', timeDeleted: null, dataset: 'ds-4', readOnly: false, deleting: false });
  t.is(run(tables, { type: 'VolumeReplaceRegion', volumeId: 'volume-1', oldRegionId: 'region-ds-1', newRegionId: 'region-new' }).result, 'Done');
  t.deepEqual(targetsOf(tables.volume.get('volume-1')!.vcr), ['ds-4', 'ds-2', 'ds-3']);
  t.is(regionGen(tables.volume.get('volume-1')!.vcr), 2, 'generation number bumped');
  t.is(run(tables, { type: 'VolumeReplaceRegion', volumeId: 'volume-1', oldRegionId: 'region-ds-1', newRegionId: 'region-new' }).result, 'AlreadyHappened', 'a re-run of the saga node');
  t.is(run(tables, { type: 'VolumeReplaceRegion', volumeId: 'volume-1', oldRegionId: 'region-new', newRegionId: 'region-ds-1' }).result, 'Done', 'the swap back (an unwind)');
  t.deepEqual(targetsOf(tables.volume.get('volume-1')!.vcr), ['ds-1', 'ds-2', 'ds-3']);
  t.is(regionGen(tables.volume.get('volume-1')!.vcr), 3, 'generation number bumped again');
  tables.volume.get('volume-1')!.timeDeleted = 5;
  t.is(run(tables, { type: 'VolumeReplaceRegion', volumeId: 'volume-1', oldRegionId: 'region-ds-1', newRegionId: 'region-new' }).result, 'ExistingVolumeSoftDeleted');
});

test('a request holds its volume: a second request for the same volume is refused until the first completes', (t) => {
  const tables = storage();
  t.deepEqual(run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr-1', regionId: 'region-ds-1', volumeId: 'volume-1' }), { inserted: true });
  t.deepEqual(run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr-2', regionId: 'region-ds-2', volumeId: 'volume-1' }), { inserted: false });
  t.deepEqual(run(tables, { type: 'RegionReplacementTransition', replacementId: 'rr-1', from: 'Requested', to: 'Complete', sagaId: null, mode: 'clear' }), { ok: true });
  t.deepEqual(run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr-2', regionId: 'region-ds-2', volumeId: 'volume-1' }), { inserted: true });
});

test('state transitions take and clear the operating saga: a second saga is refused, a re-run of the same one is fine', (t) => {
  const tables = storage();
  run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr-1', regionId: 'region-ds-1', volumeId: 'volume-1' });
  const take = (sagaId: string) => run(tables, { type: 'RegionReplacementTransition', replacementId: 'rr-1', from: 'Requested', to: 'Allocating', sagaId, mode: 'take' });
  t.deepEqual(take('s1'), { ok: true });
  t.deepEqual(take('s1'), { ok: true }, 'idempotent for the saga that holds it');
  t.deepEqual(take('s2'), { ok: false }, 'another saga: Conflict');
  t.deepEqual(run(tables, { type: 'RegionReplacementTransition', replacementId: 'rr-1', from: 'Allocating', to: 'Running', sagaId: 's2', mode: 'clear', newRegionId: 'r' }), { ok: false }, 'cleared only by its holder');
  t.deepEqual(run(tables, { type: 'RegionReplacementTransition', replacementId: 'rr-1', from: 'Allocating', to: 'Running', sagaId: 's1', mode: 'clear', newRegionId: 'r' }), { ok: true });
});

test('a repair notice counts for a request only if it names the new region and came after the request', (t) => {
  const tables = storage();
  run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr-1', regionId: 'region-ds-1', volumeId: 'volume-1' }, 100);
  tables.region.set('region-new', { id: 'region-new', volumeId: 'volume-1-new', downstairs: 'ds-4', timeDeleted: null, dataset: 'ds-4', readOnly: false, deleting: false });
  tables.regionReplacement.get('rr-1')!.newRegionId = 'region-new';
  run(tables, { type: 'UpstairsRepairNotify', upstairsId: 'up-1', repairType: 'Live', targets: ['ds-4'], succeeded: true }, 50);
  run(tables, { type: 'UpstairsRepairNotify', upstairsId: 'up-1', repairType: 'Reconciliation', targets: ['ds-2', 'ds-3', 'ds-4'], succeeded: false }, 150);
  run(tables, { type: 'UpstairsRepairNotify', upstairsId: 'up-1', repairType: 'Live', targets: ['ds-2'], succeeded: true }, 160);
  t.deepEqual(run(tables, { type: 'RegionReplacementRepairFinished', replacementId: 'rr-1' }), { finished: false }, 'too early, failed, or of another region');
  run(tables, { type: 'UpstairsRepairNotify', upstairsId: 'up-1', repairType: 'Reconciliation', targets: ['ds-2', 'ds-3', 'ds-4'], succeeded: true }, 200);
  t.deepEqual(run(tables, { type: 'RegionReplacementRepairFinished', replacementId: 'rr-1' }), { finished: true });
});

// ---- the drive saga ----------------------------------------------------------------------------

interface DriveSetup {
  readonly vmmState: VmmState | null;
  readonly lastStepVmm?: string;
  readonly bugs?: readonly string[];
  readonly volumeDeleted?: boolean;
  readonly propolis: (request: Call['request']) => PropolisReply | null;
}

/** A request Running with region-ds-1 replaced by ds-4 in the volume; inst-1's VMM vmm-1 in `vmmState`. */
function drive(setup: DriveSetup): { tables: Tables; calls: Call[]; result: SagaOutcome } {
  const tables = storage();
  tables.region.set('region-new', { id: 'region-new', volumeId: 'volume-1', downstairs: 'ds-4', timeDeleted: null, dataset: 'ds-4', readOnly: false, deleting: false });
  tables.volume.get('volume-1')!.vcr = vcr(['ds-4', 'ds-2', 'ds-3'], 3);
  tables.regionReplacement.set('rr-1', { id: 'rr-1', oldRegionId: 'region-ds-1', volumeId: 'volume-1', newRegionId: 'region-new', state: 'Running', operatingSagaId: null, requestTimeMs: 0 });
  tables.volumeRepair.set('volume-1', 'rr-1');
  tables.instance.set('inst-1', instanceRow('inst-1', setup.vmmState === null ? (null as unknown as string) : 'vmm-1', setup.vmmState === null ? { state: 'NoVmm', activePropolisId: null } : {}));
  if (setup.vmmState !== null) tables.vmm.set('vmm-1', { id: 'vmm-1', instanceId: 'inst-1', sledId: 'sled-1', state: setup.vmmState, gen: 3, timeCreated: 0, timeDeleted: null });
  if (setup.volumeDeleted === true) tables.volume.get('volume-1')!.timeDeleted = 1;
  if (setup.lastStepVmm !== undefined) tables.regionReplacementStep.push({ replacementId: 'rr-1', stepTimeMs: 1, instanceId: 'inst-1', vmmId: setup.lastStepVmm });
  const ctx = (env: Env): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(setup.bugs ?? []), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: false } });
  const respond = (call: Call): CallResult<unknown> => {
    if (call.to === 'crdb') return { ok: true, reply: run(tables, call.request as never) };
    const reply = setup.propolis(call.request);
    return reply === null ? { ok: false, error: 'timeout' } : { ok: true, reply: { type: 'PropolisAnswered', vmmId: 'vmm-1', reply } };
  };
  const { result, calls } = driveFlow((env) => executeSaga(ctx(env), regionReplacementDrive, 'drive-1', { replacementId: 'rr-1' }), respond);
  return { tables, calls: calls.filter((c) => c.to !== 'crdb'), result };
}

const HEALTHY: PropolisReply = { type: 'VolumeStatus', upstairs: [{ upstairsId: 'up-1', targets: ['ds-4', 'ds-2', 'ds-3'], healthy: true }] };
const DEGRADED: PropolisReply = { type: 'VolumeStatus', upstairs: [{ upstairsId: 'up-1', targets: ['ds-4', 'ds-2', 'ds-3'], healthy: false }] };

function answers(replace: PropolisReply | null, status: PropolisReply | null = HEALTHY): DriveSetup['propolis'] {
  return (request) => (request.type === 'VmmVcrReplace' ? replace : status);
}

const stateOf = (tables: Tables): string => tables.regionReplacement.get('rr-1')!.state;

/** How the saga ended: Done, or the error of the node that failed (the saga then unwound). */
function outcome(result: SagaOutcome): string {
  return result.kind === 'Failed' ? `Failed: ${result.error}` : result.kind;
}

test('prepare sends the VCR to a Running or Rebooting VMM; Started is recorded as a step, not done', (t) => {
  for (const vmmState of ['Running', 'Rebooting'] as const) {
    const { tables, calls } = drive({ vmmState, propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
    t.deepEqual(calls.map((c) => c.request.type), ['VmmVcrReplace'], vmmState);
    t.deepEqual(targetsOf(calls[0]!.request['vcr'] as Vcr), ['ds-4', 'ds-2', 'ds-3'], 'the stored VCR');
    t.is(stateOf(tables), 'Running', 'back to Running: the repair goes on');
    t.is(tables.regionReplacementStep.length, 1);
    t.is(tables.regionReplacementStep[0]!.vmmId, 'vmm-1');
  }
});

test('a Starting VMM: Nexus today fails prepare (nexus/replacement-waits-for-running); the default sends it the VCR (omicron#7398)', (t) => {
  const today = drive({ vmmState: 'Starting', bugs: ['nexus/replacement-waits-for-running'], propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
  t.deepEqual(today.calls, []);
  t.is(outcome(today.result), 'Failed: prepare: vmm vmm-1 propolis not in a state to receive request: Starting');
  t.is(stateOf(today.tables), 'Running', 'the saga unwound: the task tries again later');
  const fixed = drive({ vmmState: 'Starting', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
  t.deepEqual(fixed.calls.map((c) => c.request.type), ['VmmVcrReplace']);
});

test('any other VMM state fails prepare; no VMM at all waits for the next start (no Pantry here)', (t) => {
  for (const vmmState of ['Creating', 'Stopping', 'Stopped', 'Migrating', 'Failed', 'Destroyed', 'SagaUnwound'] as const) {
    const { tables, calls, result } = drive({ vmmState, propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
    t.deepEqual(calls, [], vmmState);
    t.is(outcome(result), `Failed: prepare: vmm vmm-1 propolis not in a state to receive request: ${vmmState}`);
    t.is(stateOf(tables), 'Running', vmmState);
  }
  const none = drive({ vmmState: null, propolis: answers(null) });
  t.deepEqual(none.calls, []);
  t.is(outcome(none.result), 'Done', 'a Noop: nothing to do until the next start');
  t.is(stateOf(none.tables), 'Running');
});

test('CompletedAlready is done; VcrMatches is done only once disk_volume_status says the upstairs holding the new target is healthy', (t) => {
  t.is(stateOf(drive({ vmmState: 'Running', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'CompletedAlready' }) }).tables), 'ReplacementDone');
  const healthy = drive({ vmmState: 'Running', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'VcrMatches' }, HEALTHY) });
  t.deepEqual(healthy.calls.map((c) => c.request.type), ['VmmVcrReplace', 'VmmDiskVolumeStatus']);
  t.is(stateOf(healthy.tables), 'ReplacementDone');
  t.is(stateOf(drive({ vmmState: 'Running', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'VcrMatches' }, DEGRADED) }).tables), 'Running');
  const missing: PropolisReply = { type: 'VolumeStatus', upstairs: [{ upstairsId: 'up-1', targets: ['ds-1', 'ds-2', 'ds-3'], healthy: true }] };
  const lost = drive({ vmmState: 'Running', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'VcrMatches' }, missing) });
  t.is(outcome(lost.result), 'Failed: execute: did not find ds-4 in volume info!');
  t.is(stateOf(lost.tables), 'Running');
  t.is(lost.tables.regionReplacementStep.length, 0);
});

test('the last step went to the VMM that still runs: Nexus today waits for a notice; the default polls its volume status', (t) => {
  const today = drive({ vmmState: 'Running', lastStepVmm: 'vmm-1', bugs: ['nexus/replacement-never-polls'], propolis: answers(null) });
  t.deepEqual(today.calls, [], 'LastStepStillRunning: nothing is asked');
  t.is(outcome(today.result), 'Done', 'a Noop');
  t.is(stateOf(today.tables), 'Running');
  const polled = drive({ vmmState: 'Running', lastStepVmm: 'vmm-1', propolis: answers(null, HEALTHY) });
  t.deepEqual(polled.calls.map((c) => c.request.type), ['VmmDiskVolumeStatus'], 'no VCR sent again: Propolis holds it already');
  t.is(stateOf(polled.tables), 'ReplacementDone');
  t.is(stateOf(drive({ vmmState: 'Running', lastStepVmm: 'vmm-1', propolis: answers(null, DEGRADED) }).tables), 'Running');
});

test('the last step went to another VMM: action required, the VCR goes to the current one', (t) => {
  const { calls } = drive({ vmmState: 'Running', lastStepVmm: 'vmm-0', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'VcrMatches' }, HEALTHY) });
  t.deepEqual(calls.map((c) => c.request.type), ['VmmVcrReplace', 'VmmDiskVolumeStatus']);
});

test('the last step VMM is Starting again: check fails; Stopping or gone: check waits; nothing is sent', (t) => {
  const starting = drive({ vmmState: 'Starting', lastStepVmm: 'vmm-1', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
  t.deepEqual(starting.calls, []);
  t.is(outcome(starting.result), 'Failed: check: vmm vmm-1 propolis is Starting');
  for (const vmmState of ['Stopping', 'Stopped', 'Destroyed'] as const) {
    const { calls, tables, result } = drive({ vmmState, lastStepVmm: 'vmm-1', propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
    t.deepEqual(calls, [], vmmState);
    t.is(outcome(result), 'Done', `${vmmState}: Wait, a Noop`);
    t.is(stateOf(tables), 'Running', vmmState);
  }
});

test('a VCR resent after its answer was lost gets 400 "no difference": upstream fails every time (nexus/replacement-resend-refused); the default reads it as VcrMatches', (t) => {
  const refused: PropolisReply = { type: 'Error', status: 400, message: VCRS_HAVE_NO_DIFFERENCE };
  const today = drive({ vmmState: 'Running', bugs: ['nexus/replacement-resend-refused'], propolis: answers(refused, HEALTHY) });
  t.deepEqual(today.calls.map((c) => c.request.type), ['VmmVcrReplace']);
  t.is(outcome(today.result), `Failed: execute: propolis: 400 ${VCRS_HAVE_NO_DIFFERENCE}`);
  t.is(stateOf(today.tables), 'Running');
  t.is(today.tables.regionReplacementStep.length, 0, 'the saga failed: no step');
  const fixed = drive({ vmmState: 'Running', propolis: answers(refused, HEALTHY) });
  t.deepEqual(fixed.calls.map((c) => c.request.type), ['VmmVcrReplace', 'VmmDiskVolumeStatus']);
  t.is(stateOf(fixed.tables), 'ReplacementDone');
  const other = drive({ vmmState: 'Running', propolis: answers({ type: 'Error', status: 400, message: 'Replace downstairs failed for disk-1 with client 0 is still being replaced or repaired' }) });
  t.is(stateOf(other.tables), 'Running', 'any other 400 still fails');
});

test('a volume deleted under the request: check says Done without asking anyone', (t) => {
  const { calls, tables } = drive({ vmmState: 'Running', volumeDeleted: true, propolis: answers({ type: 'VcrReplaced', status: 200, result: 'Started' }) });
  t.deepEqual(calls, []);
  t.is(stateOf(tables), 'ReplacementDone');
});
