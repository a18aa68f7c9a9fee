// Safety of region snapshot replacement and volume reference counts, checked after every
// transaction that writes the storage records (the database's `storageWrites` counter moves; a
// saga log write alone changes nothing these judge, except a snapshot saga's end, which the next
// storage write sees). Each asks what a user would lose:
// V-I1  every region, read-only region and region snapshot a live volume names exists and is not
//       deleting (else a disk's data, or the base image under it, is on something being deleted);
//       Nexus's own validate_volume_invariants.
// V-I2  the targets of each region set are distinct (two copies on one downstairs are one copy).
// V-I3  a read-only region is never counted as a region snapshot, and usage rows name live records.
// V-I4  reference counts are exact: a read-only target's usage rows are exactly the live volumes
//       naming it (one too few frees data in use; one too many leaks it for good).
// V-I5  requests and steps move only along the edges of the protocol (the finish task's direct
//       Running -> Complete of before #7046 is allowed: no loss by itself); every volume_repair
//       lock is held by a request or step that is not finished (or a snapshot being taken); at
//       most one unfinished step per volume, never on a stash.
// V-I6  while a request is ReplacementDone, DeletingOldVolume or Running, its new region R' exists
//       and is not deleting: the volumes still to be moved onto it need it.
// V-I7  a Complete request has every step VolumeDeleted and no live volume names its target.

import { readOnlyTargets, readWriteTargets, regionSets } from '../model/crucible/vcr-targets.ts';
import type { RsrState, RsrStepState, Tables, VolumeRow } from '../model/crdb/tables.ts';
import type { Vcr } from '../model/crucible/vcr.ts';
import type { Finding, Oracle } from '../sim/runner.ts';

const REQUEST_EDGES: ReadonlySet<string> = new Set([
  'Requested->Allocating',
  'Allocating->Requested',
  'Allocating->ReplacementDone',
  'ReplacementDone->DeletingOldVolume',
  'DeletingOldVolume->ReplacementDone',
  'DeletingOldVolume->Running',
  'Running->Completing',
  'Completing->Running',
  'Completing->Complete',
  'Requested->Complete',
  'Running->Complete',
]);
const STEP_EDGES: ReadonlySet<string> = new Set(['Requested->Running', 'Running->Requested', 'Running->Complete', 'Complete->VolumeDeleted', 'Requested->VolumeDeleted']);

export class SnapshotReplacementSafety implements Pick<Oracle, 'afterStep'> {
  readonly #tables: () => Tables;
  #seenWrites = -1;
  readonly #requestStates = new Map<string, RsrState>();
  readonly #stepStates = new Map<string, RsrStepState>();

  constructor(tables: () => Tables) {
    this.#tables = tables;
  }

  afterStep(): Finding | null {
    const tables = this.#tables();
    if (tables.storageWrites === this.#seenWrites) return null;
    this.#seenWrites = tables.storageWrites;
    return liveTargets(tables) ?? distinctTargets(tables) ?? usageKinds(tables) ?? exactCounts(tables) ?? this.#edges(tables) ?? locks(tables) ?? newRegionHeld(tables) ?? completeMeansDone(tables);
  }

  #edges(tables: Tables): Finding | null {
    for (const r of tables.regionSnapshotReplacement.values()) {
      const was = this.#requestStates.get(r.id);
      this.#requestStates.set(r.id, r.state);
      if (was === undefined ? r.state !== 'Requested' : was !== r.state && !REQUEST_EDGES.has(`${was}->${r.state}`)) return { invariant: 'V-I5', message: `request ${r.id} moved ${was ?? '(new)'} -> ${r.state}` };
    }
    for (const s of tables.regionSnapshotReplacementStep.values()) {
      const was = this.#stepStates.get(s.id);
      this.#stepStates.set(s.id, s.state);
      if (was === undefined ? s.state !== 'Requested' : was !== s.state && !STEP_EDGES.has(`${was}->${s.state}`)) return { invariant: 'V-I5', message: `step ${s.id} moved ${was ?? '(new)'} -> ${s.state}` };
    }
    return null;
  }
}

interface Named {
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  readonly sets: readonly (readonly string[])[];
}

/** What a VCR names, parsed once per VCR object (a volume's VCR is replaced, never changed in place). */
const parsed = new WeakMap<object, Named>();

function named(vcr: Vcr): Named {
  let n = parsed.get(vcr);
  if (n === undefined) {
    n = { readOnly: readOnlyTargets(vcr), readWrite: readWriteTargets(vcr), sets: regionSets(vcr) };
    parsed.set(vcr, n);
  }
  return n;
}

function liveVolumes(tables: Tables): VolumeRow[] {
  return [...tables.volume.values()].filter((v) => v.timeDeleted === null);
}

function liveTargets(tables: Tables): Finding | null {
  const rw = new Map([...tables.region.values()].map((r) => [r.downstairs, r]));
  const rs = new Map([...tables.regionSnapshot.values()].map((s) => [s.address, s]));
  for (const v of liveVolumes(tables)) {
    for (const t of named(v.vcr).readWrite) if (rw.get(t)?.readOnly !== false) return { invariant: 'V-I1', message: `live volume ${v.id} names read-write region ${t}, which has no record` };
    for (const t of named(v.vcr).readOnly) {
      const snap = rs.get(t);
      const region = rw.get(t);
      if (snap === undefined && region === undefined) return { invariant: 'V-I1', message: `live volume ${v.id} names read-only target ${t}, which has no record` };
      if ((snap ?? region)!.deleting) return { invariant: 'V-I1', message: `live volume ${v.id} names ${t}, which is being deleted` };
    }
  }
  return null;
}

function distinctTargets(tables: Tables): Finding | null {
  for (const v of tables.volume.values()) {
    for (const set of named(v.vcr).sets) if (new Set(set).size !== set.length) return { invariant: 'V-I2', message: `volume ${v.id} names one target twice in a region set: ${set.join(', ')}` };
  }
  return null;
}

function usageKinds(tables: Tables): Finding | null {
  for (const u of tables.volumeResourceUsage) {
    if (u.kind === 'RegionSnapshot' && !tables.regionSnapshot.has(u.resource)) return { invariant: 'V-I3', message: `usage of region snapshot ${u.resource} by ${u.volumeId}, which has no record` };
    if (u.kind === 'ReadOnlyRegion' && tables.region.get(u.resource)?.readOnly !== true) return { invariant: 'V-I3', message: `usage of read-only region ${u.resource} by ${u.volumeId}, which is not a read-only region` };
  }
  return null;
}

function exactCounts(tables: Tables): Finding | null {
  const naming = groupBy(liveVolumes(tables).flatMap((v) => [...new Set(named(v.vcr).readOnly)].map((t) => [t, v.id] as const)));
  const rowsOf = groupBy(tables.volumeResourceUsage.map((u) => [u.resource, u.volumeId] as const));
  const resources = [...[...tables.regionSnapshot.values()].map((s) => ({ id: s.key, address: s.address })), ...[...tables.region.values()].filter((r) => r.readOnly).map((r) => ({ id: r.id, address: r.downstairs }))];
  for (const r of resources) {
    const rows = (rowsOf.get(r.id) ?? []).sort();
    const live = (naming.get(r.address) ?? []).sort();
    if (rows.join() !== live.join()) return { invariant: 'V-I4', message: `${r.id}: usage rows for [${rows.join(', ')}], but the live volumes naming it are [${live.join(', ')}]` };
  }
  return null;
}

function groupBy(pairs: readonly (readonly [string, string])[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of pairs) (out.get(k) ?? out.set(k, []).get(k)!).push(v);
  return out;
}

function locks(tables: Tables): Finding | null {
  const stashes = new Set<string>();
  for (const r of tables.regionSnapshotReplacement.values()) if (r.oldSnapshotVolumeId !== null) stashes.add(r.oldSnapshotVolumeId);
  for (const s of tables.regionSnapshotReplacementStep.values()) if (s.oldSnapshotVolumeId !== null) stashes.add(s.oldSnapshotVolumeId);
  const unfinished = new Map<string, string>();
  for (const s of tables.regionSnapshotReplacementStep.values()) {
    if (s.state !== 'Requested' && s.state !== 'Running') continue;
    if (stashes.has(s.volumeId)) return { invariant: 'V-I5', message: `step ${s.id} is for ${s.volumeId}, a stash` };
    const other = unfinished.get(s.volumeId);
    if (other !== undefined) return { invariant: 'V-I5', message: `volume ${s.volumeId} has two unfinished steps: ${other} and ${s.id}` };
    unfinished.set(s.volumeId, s.id);
  }
  for (const [volumeId, holder] of tables.volumeRepair) if (!holds(tables, volumeId, holder)) return { invariant: 'V-I5', message: `volume ${volumeId} is locked by ${holder}, which is finished or holds nothing there` };
  return null;
}

function holds(tables: Tables, volumeId: string, holder: string): boolean {
  const request = tables.regionSnapshotReplacement.get(holder);
  if (request !== undefined) return request.state !== 'Complete' && tables.snapshot.get(request.oldSnapshotId)?.volumeId === volumeId;
  const step = tables.regionSnapshotReplacementStep.get(holder);
  // A step's saga also locks the stash it made (`${saga}-stash`, region-snapshot-replacement-step.ts).
  if (step !== undefined) return (step.state === 'Requested' || step.state === 'Running') && (step.volumeId === volumeId || volumeId === `${step.operatingSagaId}-stash`);
  const replacement = tables.regionReplacement.get(holder);
  if (replacement !== undefined) return replacement.state !== 'Complete';
  // A snapshot being taken locks its disk's volume for the saga's life.
  for (const saga of tables.saga.values()) {
    if (saga.name === 'snapshot-create' && `${(saga.params as { snapshotId: string }).snapshotId}-lock` === holder && (saga.state === 'Running' || saga.state === 'Unwinding')) return true;
  }
  return false;
}

/** V-I6 (exported for its tests). */
export function newRegionHeld(tables: Tables): Finding | null {
  for (const r of tables.regionSnapshotReplacement.values()) {
    if (r.state !== 'ReplacementDone' && r.state !== 'DeletingOldVolume' && r.state !== 'Running') continue;
    // Once the old target is gone no volume names it, and nothing is left to move: a finish saga
    // that unwound after deleting the new region's volume (upstream's volume delete has no undo)
    // leaves the request Running with its new region freed, harmlessly, until the next finish.
    if (!tables.regionSnapshot.has(r.oldRegionSnapshot)) continue;
    const region = r.newRegionId === null ? undefined : tables.region.get(r.newRegionId);
    if (region === undefined || region.deleting) return { invariant: 'V-I6', message: `request ${r.id} is ${r.state}, but its new region ${r.newRegionId} is ${region === undefined ? 'gone' : 'being deleted'}: the volumes still naming ${r.oldRegionSnapshot} cannot be moved onto it` };
  }
  return null;
}

function completeMeansDone(tables: Tables): Finding | null {
  for (const r of tables.regionSnapshotReplacement.values()) {
    if (r.state !== 'Complete') continue;
    for (const s of tables.regionSnapshotReplacementStep.values()) if (s.requestId === r.id && s.state !== 'VolumeDeleted') return { invariant: 'V-I7', message: `request ${r.id} is Complete with step ${s.id} ${s.state}` };
    const target = `:${r.oldRegionSnapshot}`;
    for (const v of liveVolumes(tables)) if (named(v.vcr).readOnly.some((t) => t.endsWith(target))) return { invariant: 'V-I7', message: `request ${r.id} is Complete, but live volume ${v.id} still names ${r.oldRegionSnapshot}` };
  }
  return null;
}
