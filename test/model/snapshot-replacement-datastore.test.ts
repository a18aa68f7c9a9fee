import test from 'ava';
import { emptyTables, type RsrState, type Tables } from '../../model/crdb/tables.ts';
import { replaceReadOnlyTarget, readOnlyTargets, singleRegionVolume } from '../../model/crucible/vcr-targets.ts';
import { regionSubVolumes, type Vcr } from '../../model/crucible/vcr.ts';
import type { ReplacementDoneIds } from '../../model/crdb/datastore/region-snapshot-replacement.ts';
import { run } from '../helpers/db.ts';

// The region snapshot replacement records, volume_repair locks and volume reference counts in the
// database, ported from omicron's own unit tests (omicron b848b6df85,
// nexus/db-queries/src/db/datastore/{region_snapshot_replacement,volume_repair,volume}.rs). Each
// test names the upstream test it follows.

/** Three region snapshots of snapshot `s` (A1..A3 on agent-1..3), with the snapshot row and its disk's regions. */
function withRegionSnapshots(): Tables {
  const tables = emptyTables();
  for (const a of ['agent-1', 'agent-2', 'agent-3', 'agent-4']) tables.physicalDisk.set(a, { expunged: false });
  run(tables, { type: 'DiskInsert', diskId: 'd', volumeId: 'd-volume', snapshotId: null });
  for (const i of [1, 2, 3]) {
    tables.region.set(`r${i}`, { id: `r${i}`, volumeId: 'd-volume', downstairs: `agent-${i}:r${i}`, timeDeleted: null, dataset: `agent-${i}`, readOnly: false, deleting: false });
    run(tables, { type: 'RegionSnapshotInsert', dataset: `agent-${i}`, regionId: `r${i}`, snapshotId: 's' });
  }
  run(tables, { type: 'SnapshotInsert', snapshotId: 's', diskId: 'd', volumeId: 's-volume' });
  return tables;
}

const A = (i: number): string => `agent-${i}:r${i}@s`;

/** A read-only region R on agent-4, as the start saga allocates it for the snapshot volume. */
function withReplacementRegion(tables: Tables): string {
  const r = run(tables, { type: 'RegionAllocate', volumeId: 's-volume', count: 1, readOnly: true, snapshotId: 's' });
  return r.regions[0].address;
}

function blank(tables: Tables, id: string): void {
  run(tables, { type: 'VolumeCreate', volumeId: id, vcr: singleRegionVolume(id, [], true, 0, null) });
}

function usage(tables: Tables, resource: string): string[] {
  return tables.volumeResourceUsage.filter((u) => u.resource === resource).map((u) => u.volumeId);
}

// volume_repair.rs: volume_lock_conflict_error_returned, volume_lock_should_pass_without_volume, volume_lock_relock_allowed
test('a volume lock conflicts with another repair, may be taken on a volume that does not exist, and again by its holder', (t) => {
  const tables = emptyTables();
  blank(tables, 'v');
  t.true(run(tables, { type: 'VolumeRepairLock', volumeId: 'v', repairId: 'l1' }).ok);
  t.deepEqual(run(tables, { type: 'VolumeRepairLock', volumeId: 'v', repairId: 'l2' }), { ok: false, error: 'volume repair lock' });
  t.true(run(tables, { type: 'VolumeRepairLock', volumeId: 'v', repairId: 'l1' }).ok);
  t.true(run(tables, { type: 'VolumeRepairLock', volumeId: 'never-created', repairId: 'l3' }).ok);
});

// region_snapshot_replacement.rs: test_one_replacement_per_volume
test('two replacements of one snapshot volume: the second request is refused by the lock', (t) => {
  const tables = withRegionSnapshots();
  t.true(run(tables, { type: 'RsrInsert', requestId: 'q1', regionSnapshot: 'r1@s', lockNeedsLiveVolume: false }).inserted);
  t.deepEqual(run(tables, { type: 'RsrInsert', requestId: 'q2', regionSnapshot: 'r2@s', lockNeedsLiveVolume: false }), { inserted: false, error: 'volume repair lock' });
  t.is(tables.volumeRepair.get('s-volume'), 'q1');
});

// volume_repair.rs before #7862 (volume_lock_should_fail_without_volume) and after (#7790)
test('a request for a region snapshot of a deleted snapshot volume: refused before #7862, taken after', (t) => {
  const tables = withRegionSnapshots();
  t.deepEqual(run(tables, { type: 'RsrInsert', requestId: 'q1', regionSnapshot: 'r1@s', lockNeedsLiveVolume: true }), { inserted: false, error: 'volume does not exist' });
  t.true(run(tables, { type: 'RsrInsert', requestId: 'q1', regionSnapshot: 'r1@s', lockNeedsLiveVolume: false }).inserted);
});

// region_snapshot_replacement.rs: unique_region_snapshot_replacement_step_per_volume
test('one unfinished step per volume: AlreadyHandled until the first completes and releases the lock', (t) => {
  const tables = withRegionSnapshots();
  blank(tables, 'v');
  const step = (id: string) => run(tables, { type: 'RsrStepInsert', stepId: id, requestId: 'q', volumeId: 'v', lockNeedsLiveVolume: false }).result;
  t.is(step('a'), 'Inserted');
  t.is(step('b'), 'AlreadyHandled');
  t.true(run(tables, { type: 'RsrStepTransition', stepId: 'a', to: 'Running', sagaId: 'saga' }).ok);
  t.is(step('b'), 'AlreadyHandled');
  t.true(run(tables, { type: 'RsrStepTransition', stepId: 'a', to: 'Complete', sagaId: 'saga', oldSnapshotVolumeId: 'stash' }).ok);
  t.false(tables.volumeRepair.has('v'));
  t.is(step('b'), 'Inserted');
  t.true(run(tables, { type: 'RsrStepTransition', stepId: 'a', to: 'VolumeDeleted', sagaId: null }).ok);
});

// region_snapshot_replacement.rs: region_snapshot_replacement_step_conflict
test('no step for a volume that is some step\'s stash', (t) => {
  const tables = withRegionSnapshots();
  blank(tables, 'v');
  blank(tables, 'o');
  run(tables, { type: 'RsrStepInsert', stepId: 'a', requestId: 'q', volumeId: 'v', lockNeedsLiveVolume: false });
  run(tables, { type: 'RsrStepTransition', stepId: 'a', to: 'Running', sagaId: 'saga' });
  run(tables, { type: 'RsrStepTransition', stepId: 'a', to: 'Complete', sagaId: 'saga', oldSnapshotVolumeId: 'o' });
  t.is(run(tables, { type: 'RsrStepInsert', stepId: 'b', requestId: 'q', volumeId: 'o', lockNeedsLiveVolume: false }).result, 'AlreadyHandled');
});

// region_snapshot_replacement.rs: region_snapshot_replacement_step_conflict_with_region_replacement
test('a step conflicts with a region replacement holding its volume', (t) => {
  const tables = withRegionSnapshots();
  blank(tables, 'v');
  t.true(run(tables, { type: 'RegionReplacementInsert', replacementId: 'rr', regionId: 'x', volumeId: 'v' }).inserted);
  t.is(run(tables, { type: 'RsrStepInsert', stepId: 'a', requestId: 'q', volumeId: 'v', lockNeedsLiveVolume: false }).result, 'Conflict');
});

// region_snapshot_replacement.rs: count_replacement_steps
test('a step counts as in progress until VolumeDeleted (a Complete one too)', (t) => {
  const tables = withRegionSnapshots();
  for (const v of ['s1', 's2']) blank(tables, v);
  run(tables, { type: 'RsrStepInsert', stepId: 'a', requestId: 'q', volumeId: 's1', lockNeedsLiveVolume: false });
  run(tables, { type: 'RsrStepInsert', stepId: 'b', requestId: 'q', volumeId: 's2', lockNeedsLiveVolume: false });
  t.is(run(tables, { type: 'RsrStepsInProgress', requestId: 'q' }).count, 2);
  run(tables, { type: 'RsrStepTransition', stepId: 'b', to: 'VolumeDeleted', sagaId: null });
  t.is(run(tables, { type: 'RsrStepsInProgress', requestId: 'q' }).count, 1);
  t.is(run(tables, { type: 'RsrStepsIn', state: 'Requested' }).steps.length, 1);
  t.false(tables.volumeRepair.has('s2'), 'Requested -> VolumeDeleted releases the lock');
});

// region_snapshot_replacement.rs: the request transitions (set_..._allocating and its undo, replacement_done, complete)
test('request edges: take needs no saga and is idempotent for the same saga; clear needs the saga; Complete releases the lock', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'RsrInsert', requestId: 'q', regionSnapshot: 'r1@s', lockNeedsLiveVolume: false });
  const move = (from: RsrState, to: RsrState, sagaId: string | null, mode: 'take' | 'clear', ids?: ReplacementDoneIds) => run(tables, { type: 'RsrTransition', requestId: 'q', from, to, sagaId, mode, ...(ids ? { ids } : {}) }).ok as boolean;
  t.true(move('Requested', 'Allocating', 'saga-1', 'take'));
  t.true(move('Requested', 'Allocating', 'saga-1', 'take'), 'the same saga again: done already');
  t.false(move('Requested', 'Allocating', 'saga-2', 'take'), 'another saga: Conflict');
  const ids = { newRegionId: 'n', newRegionVolumeId: 'nrv', oldSnapshotVolumeId: 'stash' };
  t.false(move('Allocating', 'ReplacementDone', 'saga-2', 'clear', ids));
  t.true(move('Allocating', 'ReplacementDone', 'saga-1', 'clear', ids));
  t.true(move('Allocating', 'ReplacementDone', 'saga-1', 'clear', ids), 'a re-run with the same ids');
  t.false(move('Allocating', 'ReplacementDone', 'saga-1', 'clear', { ...ids, newRegionId: 'other' }), 'a re-run with other ids: Conflict');
  t.false(move('Requested', 'Complete', null, 'clear'), 'no shortcut to Complete once NRV is set');
  for (const [from, to] of [['ReplacementDone', 'DeletingOldVolume'], ['DeletingOldVolume', 'Running'], ['Running', 'Completing'], ['Completing', 'Complete']] as const) {
    t.true(move(from, to, 'saga-3', to === 'DeletingOldVolume' || to === 'Completing' ? 'take' : 'clear'));
  }
  t.false(tables.volumeRepair.has('s-volume'));
  t.true(move('Completing', 'Complete', 'saga-9', 'clear'), 'Complete is fine whenever the record is Complete');
});

// volume.rs: test_volume_replace_snapshot
test('the swap moves one read-only target and its usage row, without a generation bump, and undoes exactly', (t) => {
  const tables = withRegionSnapshots();
  const parent = singleRegionVolume('s-volume', [A(1), A(2), A(3)], true, 1, null);
  t.true(run(tables, { type: 'VolumeCreate', volumeId: 'v', vcr: singleRegionVolume('v', ['x:1', 'x:2', 'x:3'], false, 1, parent) }).ok);
  for (const i of [1, 2, 3]) t.deepEqual(usage(tables, `r${i}@s`), ['v']);
  const r = withReplacementRegion(tables);
  blank(tables, 'vtd');
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'v', existing: A(1), replacement: r, stash: 'vtd' }), { ok: true, result: 'Done' });
  const after = tables.volume.get('v')!.vcr;
  t.deepEqual(readOnlyTargets(after), [r, A(2), A(3)]);
  t.deepEqual(regionSubVolumes(after.type === 'Volume' ? after.readOnlyParent! : after).map((x) => x.gen), [1], 'no generation bump');
  t.deepEqual(readOnlyTargets(tables.volume.get('vtd')!.vcr), [A(1)]);
  t.deepEqual(usage(tables, 'r1@s'), ['vtd']);
  t.deepEqual(usage(tables, 'r2@s'), ['v']);
  t.deepEqual(usage(tables, tables.region.get([...tables.region.values()].find((x) => x.readOnly)!.id)!.id), ['v']);
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'v', existing: A(1), replacement: r, stash: 'vtd' }), { ok: true, result: 'AlreadyHappened' });
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'v', existing: r, replacement: A(1), stash: 'vtd' }), { ok: true, result: 'Done' });
  t.deepEqual(readOnlyTargets(tables.volume.get('v')!.vcr), [A(1), A(2), A(3)]);
  t.deepEqual(readOnlyTargets(tables.volume.get('vtd')!.vcr), [r]);
  for (const i of [1, 2, 3]) t.deepEqual(usage(tables, `r${i}@s`), ['v']);
});

// volume.rs: volume_replace_snapshot on deleted volumes (ExistingVolumeSoftDeleted / HardDeleted)
test('the swap leaves a deleted volume alone and says so', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'VolumeCreate', volumeId: 'v', vcr: singleRegionVolume('v', [A(1), A(2), A(3)], true, 1, null) });
  const r = withReplacementRegion(tables);
  blank(tables, 'vtd');
  run(tables, { type: 'VolumeSoftDelete', volumeId: 'v' });
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'v', existing: A(1), replacement: r, stash: 'vtd' }), { ok: true, result: 'ExistingVolumeSoftDeleted' });
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'gone', existing: A(1), replacement: r, stash: 'vtd' }), { ok: true, result: 'ExistingVolumeHardDeleted' });
  t.deepEqual(readOnlyTargets(tables.volume.get('vtd')!.vcr), []);
});

// volume.rs: test_replace_read_only_target_in_vcr (c): the same parent at two levels
test('replacing a target named twice counts two replacements, which the swap refuses', (t) => {
  const parent = singleRegionVolume('p', [A(1), A(2), A(3)], true, 1, null);
  const nested: Vcr = { type: 'Volume', id: 'v', blockSize: 512, readOnlyParent: parent, subVolumes: [{ type: 'Volume', id: 'sv', blockSize: 512, readOnlyParent: parent, subVolumes: [] }] };
  t.is(replaceReadOnlyTarget(nested, A(1), 'new').replaced, 2);
  const tables = withRegionSnapshots();
  const r = withReplacementRegion(tables);
  tables.volume.set('v', { id: 'v', vcr: nested, timeDeleted: null });
  blank(tables, 'vtd');
  t.deepEqual(run(tables, { type: 'VolumeReplaceSnapshot', volumeId: 'v', existing: A(1), replacement: r, stash: 'vtd' }), { ok: false, error: 'UnexpectedReplacedTargets(2, 1)' });
});

// volume.rs: soft_delete_volume (test_volume_soft_delete... in volume_management.rs: the last reference frees the snapshot)
test('soft delete: one usage row per target goes, the last one marks the target deleting and returns it; a second call returns the same', (t) => {
  const tables = withRegionSnapshots();
  const sv = singleRegionVolume('s-volume', [A(1), A(2), A(3)], true, 1, null);
  run(tables, { type: 'VolumeCreate', volumeId: 's-volume', vcr: sv });
  run(tables, { type: 'VolumeCreate', volumeId: 'disk2', vcr: singleRegionVolume('disk2', ['x:1', 'x:2', 'x:3'], false, 1, sv) });
  t.deepEqual(run(tables, { type: 'VolumeSoftDelete', volumeId: 's-volume' }).resources, { regions: [], regionSnapshots: [] });
  const freed = run(tables, { type: 'VolumeSoftDelete', volumeId: 'disk2' }).resources;
  t.deepEqual(freed.regionSnapshots, ['r1@s', 'r2@s', 'r3@s']);
  t.true(tables.regionSnapshot.get('r1@s')!.deleting);
  t.deepEqual(run(tables, { type: 'VolumeSoftDelete', volumeId: 'disk2' }).resources, freed);
  t.false(run(tables, { type: 'VolumeCreate', volumeId: 'disk3', vcr: singleRegionVolume('disk3', ['x:1', 'x:2', 'x:3'], false, 1, sv) }).ok, 'a volume naming a deleting target is refused');
});

// volume.rs: soft_delete_volume keeps read-write regions that have snapshots
test('soft delete returns read-write regions only when no region snapshot exists for them', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'VolumeCreate', volumeId: 'd-volume', vcr: singleRegionVolume('d-volume', ['agent-1:r1', 'agent-2:r2', 'agent-3:r3'], false, 1, null) });
  run(tables, { type: 'RegionSnapshotRemove', key: 'r3@s' });
  t.deepEqual(run(tables, { type: 'VolumeSoftDelete', volumeId: 'd-volume' }).resources.regions, ['r3']);
});

// volume.rs: find_deleted_volume_regions after #7046 (test_racing_replacements_for_soft_deleted_disk_volume: the
// disk volume stays soft-deleted while region snapshots hold its other regions); before #7046 it was returned at once
test('the read-write sweep returns a volume for hard deletion only when all its regions go (before #7046: at once)', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'VolumeCreate', volumeId: 'd-volume', vcr: singleRegionVolume('d-volume', ['agent-1:r1', 'agent-2:r2', 'agent-3:r3'], false, 1, null) });
  run(tables, { type: 'VolumeSoftDelete', volumeId: 'd-volume' });
  run(tables, { type: 'RegionSnapshotRemove', key: 'r1@s' });
  t.deepEqual(run(tables, { type: 'FindDeletedVolumeRegions', earlyVolume: false }), { regions: [{ regionId: 'r1', dataset: 'agent-1' }], volumes: [] });
  t.deepEqual(run(tables, { type: 'FindDeletedVolumeRegions', earlyVolume: true }).volumes, ['d-volume']);
  run(tables, { type: 'RegionSnapshotRemove', key: 'r2@s' });
  run(tables, { type: 'RegionSnapshotRemove', key: 'r3@s' });
  t.deepEqual(run(tables, { type: 'FindDeletedVolumeRegions', earlyVolume: false }).volumes, ['d-volume']);
});

// volume.rs: test_no_find_deleted_region_for_no_volume
test('regions of a volume that does not exist are never returned by the sweep', (t) => {
  const tables = withRegionSnapshots();
  for (const i of [1, 2, 3]) run(tables, { type: 'RegionSnapshotRemove', key: `r${i}@s` });
  t.deepEqual(run(tables, { type: 'FindDeletedVolumeRegions', earlyVolume: false }), { regions: [], volumes: [] });
});

// #7855 / PR #7852: volume_hard_delete and the usage rows
test('a hard delete takes the volume\'s usage rows with it (upstream leaves them: nexus/hard-delete-leaks-usage)', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'VolumeCreate', volumeId: 'v', vcr: singleRegionVolume('v', [A(1), A(2), A(3)], true, 1, null) });
  run(tables, { type: 'VolumeHardDelete', volumeId: 'v', leakUsage: true });
  t.deepEqual(usage(tables, 'r1@s'), ['v']);
  run(tables, { type: 'VolumeCreate', volumeId: 'w', vcr: singleRegionVolume('w', [A(1), A(2), A(3)], true, 1, null) });
  run(tables, { type: 'VolumeHardDelete', volumeId: 'w', leakUsage: false });
  t.deepEqual(usage(tables, 'r1@s'), ['v']);
});

// region_snapshot_replacement_start.rs: test_region_snapshot_replacement_start_prefer_not_self, ..._hail_mary
test('the clone source: another region snapshot in service, else the target itself if its disk is in service', (t) => {
  const tables = withRegionSnapshots();
  run(tables, { type: 'RsrInsert', requestId: 'q', regionSnapshot: 'r2@s', lockNeedsLiveVolume: false });
  tables.physicalDisk.get('agent-1')!.expunged = true;
  t.deepEqual(run(tables, { type: 'RsrCloneSource', requestId: 'q' }), { ok: true, address: A(3) });
  tables.physicalDisk.get('agent-3')!.expunged = true;
  t.deepEqual(run(tables, { type: 'RsrCloneSource', requestId: 'q' }), { ok: true, address: A(2) });
  tables.physicalDisk.get('agent-2')!.expunged = true;
  t.deepEqual(run(tables, { type: 'RsrCloneSource', requestId: 'q' }), { ok: false, error: 'no clone source candidate for s!' });
});

// region_snapshot_replacement_start.rs (task): region snapshots on expunged disks, one request each; not while the snapshot is being created
test('the start task asks for region snapshots on expunged disks with no request, once their snapshot exists', (t) => {
  const tables = withRegionSnapshots();
  tables.physicalDisk.get('agent-1')!.expunged = true;
  t.deepEqual(run(tables, { type: 'RegionSnapshotsToReplace', includeCreating: false }).keys, []);
  t.deepEqual(run(tables, { type: 'RegionSnapshotsToReplace', includeCreating: true }).keys, ['r1@s']);
  run(tables, { type: 'SnapshotSetState', snapshotId: 's', state: 'Ready' });
  t.deepEqual(run(tables, { type: 'RegionSnapshotsToReplace', includeCreating: false }).keys, ['r1@s']);
  run(tables, { type: 'RsrInsert', requestId: 'q', regionSnapshot: 'r1@s', lockNeedsLiveVolume: false });
  t.deepEqual(run(tables, { type: 'RegionSnapshotsToReplace', includeCreating: false }).keys, []);
});
