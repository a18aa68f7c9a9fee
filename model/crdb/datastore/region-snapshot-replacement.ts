// Region snapshot replacement records (nexus/db-queries/src/db/datastore/region_snapshot_replacement.rs
// and volume_repair.rs, omicron b848b6df85). Every function is one transaction.
// - A request locks its snapshot volume (SV) at insertion (repair id = request id) until Complete;
//   a step locks its volume (repair id = step id) until Complete or VolumeDeleted. Taking a lock
//   again with the same repair id is fine; another id is a Conflict. Since #7862 the volume need not
//   exist (a hard-deleted SV is still serialised); `lockNeedsLiveVolume` (bug switch
//   nexus/rsr-lock-needs-live-volume) restores the #7046..#7862 check that refused it.
// - Request edges are a compare-and-swap on state plus saga id: an edge that takes the id needs
//   none held and is done already if the record is in the target state with that id; an edge that
//   clears it needs the given id and is done already if the record is in the target state with no
//   id (Allocating -> ReplacementDone also sets R', NRV and the stash, and is done already only if
//   all three match). Reaching Complete releases the lock and is fine whenever the record is
//   Complete. Anything else is a Conflict, and a refused edge releases nothing.

import { panic } from '../../assert.ts';
import { readOnlyTargets } from '../../crucible/vcr-targets.ts';
import { writeStorage, type RsrRow, type RsrState, type RsrStepRow, type RsrStepState, type Tables } from '../tables.ts';

export type LockResult = { readonly ok: true } | { readonly ok: false; readonly error: 'volume repair lock' | 'volume does not exist' };

/** volume_repair_insert_in_txn: the check only; the caller writes the row in its own write. */
export function canLock(tables: Tables, volumeId: string, repairId: string, lockNeedsLiveVolume: boolean): LockResult {
  const holder = tables.volumeRepair.get(volumeId);
  if (holder === repairId) return { ok: true };
  if (lockNeedsLiveVolume && !tables.volume.has(volumeId)) return { ok: false, error: 'volume does not exist' };
  if (holder !== undefined) return { ok: false, error: 'volume repair lock' };
  return { ok: true };
}

/** volume_repair rows deleted by repair id (any volume), as the complete transitions do. */
function unlockByRepairId(tables: Tables, repairId: string): void {
  for (const [volumeId, holder] of [...tables.volumeRepair]) if (holder === repairId) tables.volumeRepair.delete(volumeId);
}

export type InsertOutcome = { readonly inserted: true } | { readonly inserted: false; readonly error: string };

/** insert_region_snapshot_replacement_request: for a region snapshot, locking its snapshot's volume. */
export function rsrInsert(tables: Tables, r: { requestId: string; regionSnapshot: string; lockNeedsLiveVolume: boolean }, nowMs: number): InsertOutcome {
  if (tables.regionSnapshotReplacement.has(r.requestId)) return { inserted: true };
  const rs = tables.regionSnapshot.get(r.regionSnapshot);
  if (rs === undefined) return { inserted: false, error: `region snapshot ${r.regionSnapshot} not found` };
  const snapshot = tables.snapshot.get(rs.snapshotId);
  if (snapshot === undefined) return { inserted: false, error: 'cannot perform region snapshot replacement without snapshot volume' };
  const lock = canLock(tables, snapshot.volumeId, r.requestId, r.lockNeedsLiveVolume);
  if (!lock.ok) return { inserted: false, error: lock.error };
  writeStorage(tables, () => {
    tables.volumeRepair.set(snapshot.volumeId, r.requestId);
    tables.regionSnapshotReplacement.set(r.requestId, {
      id: r.requestId,
      oldRegionSnapshot: rs.key,
      oldRegionId: rs.regionId,
      oldSnapshotId: rs.snapshotId,
      oldSnapshotVolumeId: null,
      newRegionId: null,
      newRegionVolumeId: null,
      state: 'Requested',
      operatingSagaId: null,
      requestTimeMs: nowMs,
    });
  });
  if (tables.volumeRepair.get(snapshot.volumeId) !== r.requestId) panic(`request ${r.requestId}: inserted without its snapshot volume's lock`);
  return { inserted: true };
}

/** What Allocating -> ReplacementDone records. */
export interface ReplacementDoneIds {
  readonly newRegionId: string;
  readonly newRegionVolumeId: string | null;
  readonly oldSnapshotVolumeId: string;
}

export interface RsrTransition {
  readonly requestId: string;
  readonly from: RsrState;
  readonly to: RsrState;
  readonly sagaId: string | null;
  readonly mode: 'take' | 'clear';
  readonly ids?: ReplacementDoneIds;
}

export function rsrTransition(tables: Tables, t: RsrTransition): { ok: boolean } {
  const row = tables.regionSnapshotReplacement.get(t.requestId);
  if (row === undefined) return { ok: false };
  if (t.to === 'Complete' && row.state === 'Complete') return { ok: true };
  if (row.state === t.to) return { ok: alreadyThere(row, t) };
  const holds = t.mode === 'take' ? row.operatingSagaId === null : row.operatingSagaId === t.sagaId;
  if (row.state !== t.from || !holds) return { ok: false };
  if (t.from === 'Requested' && t.to === 'Complete' && row.newRegionVolumeId !== null) return { ok: false };
  writeStorage(tables, () => {
    row.state = t.to;
    row.operatingSagaId = t.mode === 'take' ? t.sagaId : null;
    if (t.ids !== undefined) Object.assign(row, t.ids);
    if (t.to === 'Complete') unlockByRepairId(tables, row.id);
  });
  if (!(row.state === t.to && row.operatingSagaId === (t.mode === 'take' ? t.sagaId : null))) panic(`request ${row.id}: ${t.from} -> ${t.to} did not land`);
  if (row.state === 'Complete' && [...tables.volumeRepair.values()].includes(row.id)) panic(`request ${row.id} completed with its lock held`);
  return { ok: true };
}

function alreadyThere(row: RsrRow, t: RsrTransition): boolean {
  if (t.mode === 'take') return row.operatingSagaId === t.sagaId;
  if (row.operatingSagaId !== null) return false;
  const ids = t.ids;
  return ids === undefined || (row.newRegionId === ids.newRegionId && row.newRegionVolumeId === ids.newRegionVolumeId && row.oldSnapshotVolumeId === ids.oldSnapshotVolumeId);
}

/** Requests in a state with no saga operating on them. */
export function rsrListIn(tables: Tables, state: RsrState): RsrRow[] {
  const rows: RsrRow[] = [];
  for (const r of tables.regionSnapshotReplacement.values()) if (r.state === state && r.operatingSagaId === null) rows.push({ ...r });
  return rows;
}

/**
 * find_region_snapshots_on_expunged_physical_disks, less those some request (in any state) is for.
 * Unless `includeCreating` (upstream today, bug switch nexus/rsr-snapshot-still-creating), not
 * those of a snapshot still being created: its volume does not exist yet, so the start saga's swap
 * finds it "hard-deleted" and skips it, and the snapshot saga then creates the volume naming T,
 * locked by the request, which no step may touch (README, "A snapshot still being created").
 */
export function regionSnapshotsToReplace(tables: Tables, includeCreating: boolean): string[] {
  const requested = new Set([...tables.regionSnapshotReplacement.values()].map((r) => r.oldRegionSnapshot));
  const found: string[] = [];
  for (const rs of tables.regionSnapshot.values()) {
    if (tables.physicalDisk.get(rs.dataset)?.expunged !== true || requested.has(rs.key)) continue;
    if (!includeCreating && tables.snapshot.get(rs.snapshotId)?.state === 'Creating') continue;
    found.push(rs.key);
  }
  return found;
}

export type StepInsertResult = 'Inserted' | 'AlreadyHandled' | 'Conflict' | 'Error';

/** insert_region_snapshot_replacement_step: never for a stash; AlreadyHandled while the volume has an unfinished step. */
export function rsrStepInsert(tables: Tables, s: { stepId: string; requestId: string; volumeId: string; lockNeedsLiveVolume: boolean }): { result: StepInsertResult } {
  if (tables.regionSnapshotReplacementStep.has(s.stepId)) return { result: 'Inserted' };
  for (const step of tables.regionSnapshotReplacementStep.values()) {
    if (step.oldSnapshotVolumeId === s.volumeId) return { result: 'AlreadyHandled' };
    if (step.volumeId === s.volumeId && (step.state === 'Requested' || step.state === 'Running')) return { result: 'AlreadyHandled' };
  }
  const lock = canLock(tables, s.volumeId, s.stepId, s.lockNeedsLiveVolume);
  if (!lock.ok) return { result: lock.error === 'volume repair lock' ? 'Conflict' : 'Error' };
  writeStorage(tables, () => {
    tables.volumeRepair.set(s.volumeId, s.stepId);
    tables.regionSnapshotReplacementStep.set(s.stepId, { id: s.stepId, requestId: s.requestId, volumeId: s.volumeId, oldSnapshotVolumeId: null, state: 'Requested', operatingSagaId: null });
  });
  if (tables.volumeRepair.get(s.volumeId) !== s.stepId) panic(`step ${s.stepId}: inserted without its volume's lock`);
  return { result: 'Inserted' };
}

export interface StepTransition {
  readonly stepId: string;
  readonly to: Exclude<RsrStepState, 'Requested'> | 'Requested';
  readonly sagaId: string | null;
  /** Running -> Complete: the step's stash. */
  readonly oldSnapshotVolumeId?: string;
}

/**
 * The step edges: Requested -> Running (takes the id; the state alone is checked, as upstream),
 * Running -> Requested (the undo), Running -> Complete (stash recorded, lock released),
 * Complete -> VolumeDeleted (step GC, no saga), Requested -> VolumeDeleted (lock released).
 */
export function rsrStepTransition(tables: Tables, t: StepTransition): { ok: boolean } {
  const step = tables.regionSnapshotReplacementStep.get(t.stepId);
  if (step === undefined) return { ok: false };
  if (step.state === t.to) return { ok: t.to === 'Running' ? step.operatingSagaId === t.sagaId : t.to === 'VolumeDeleted' || step.operatingSagaId === null };
  const allowed = stepEdgeAllowed(step, t);
  if (!allowed) return { ok: false };
  const from = step.state;
  writeStorage(tables, () => {
    step.state = t.to;
    step.operatingSagaId = t.to === 'Running' ? t.sagaId : from === 'Complete' ? step.operatingSagaId : null;
    if (t.oldSnapshotVolumeId !== undefined) step.oldSnapshotVolumeId = t.oldSnapshotVolumeId;
    if (t.to === 'Complete' || (from === 'Requested' && t.to === 'VolumeDeleted')) unlockByRepairId(tables, step.id);
  });
  if ((step.state === 'Complete' || step.state === 'VolumeDeleted') && [...tables.volumeRepair.values()].includes(step.id)) panic(`step ${step.id} finished with its lock held`);
  // Only Requested -> Running takes a saga id; Running -> Complete records the stash.
  if (!(step.state === t.to && (t.to !== 'Running' || step.operatingSagaId === t.sagaId) && (from !== 'Running' || t.to !== 'Complete' || step.oldSnapshotVolumeId !== null))) panic(`step ${step.id}: ${from} -> ${t.to} did not land`);
  return { ok: true };
}

function stepEdgeAllowed(step: RsrStepRow, t: StepTransition): boolean {
  switch (`${step.state}->${t.to}`) {
    case 'Requested->Running':
      return true;
    case 'Running->Requested':
      return step.operatingSagaId === t.sagaId;
    case 'Running->Complete':
      return step.operatingSagaId === t.sagaId && step.oldSnapshotVolumeId === null;
    case 'Complete->VolumeDeleted':
      return true;
    case 'Requested->VolumeDeleted':
      return step.operatingSagaId === null && step.oldSnapshotVolumeId === null;
    default:
      return false;
  }
}

export function rsrStepsIn(tables: Tables, state: RsrStepState): RsrStepRow[] {
  const rows: RsrStepRow[] = [];
  for (const s of tables.regionSnapshotReplacementStep.values()) if (s.state === state) rows.push({ ...s });
  return rows;
}

/** in_progress_region_snapshot_replacement_steps: not VolumeDeleted (a Complete step counts). */
export function rsrStepsInProgress(tables: Tables, requestId: string): number {
  let n = 0;
  for (const s of tables.regionSnapshotReplacementStep.values()) if (s.requestId === requestId && s.state !== 'VolumeDeleted') n++;
  return n;
}

/** find_volumes_referencing_socket_addr: every volume (soft-deleted ones included) naming the target read-only. */
export function volumesReferencing(tables: Tables, target: string): { volumeId: string; deleted: boolean }[] {
  const found: { volumeId: string; deleted: boolean }[] = [];
  for (const v of tables.volume.values()) if (readOnlyTargets(v.vcr).includes(target)) found.push({ volumeId: v.id, deleted: v.timeDeleted !== null });
  return found;
}
