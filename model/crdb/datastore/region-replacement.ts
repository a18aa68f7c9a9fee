// Region replacement records (nexus/db-queries/src/db/datastore/region_replacement.rs, omicron
// b848b6df85). A request is inserted with a volume_repair lock on its volume (one repair per
// volume; the same request taking it again is fine) and moves only by compare-and-swap on its
// state plus the id of the saga operating on it:
// - an edge that takes a saga id (-> Allocating, -> Driving, -> Completing) needs none held, and
//   is done already if the record is in the target state with that same id;
// - an edge that clears it needs the given id, and is done already if the record is in the
//   target state with no id (Allocating -> Running also sets the new region, and is done already
//   only if that matches);
// - reaching Complete releases the lock, and is fine whenever the record is Complete already.
// Anything else is a Conflict.

import { panic } from '../../assert.ts';
import { write, type RegionReplacementRow, type RegionReplacementState, type RegionReplacementStepRow, type Tables } from '../tables.ts';

export interface Transition {
  readonly replacementId: string;
  readonly from: RegionReplacementState;
  readonly to: RegionReplacementState;
  /** The saga taking the record (mode take), or the one holding it (mode clear; null when none does). */
  readonly sagaId: string | null;
  readonly mode: 'take' | 'clear';
  /** Allocating -> Running: the region that replaces the old one. */
  readonly newRegionId?: string;
}

export function regionReplacementTransition(tables: Tables, t: Transition): { ok: boolean } {
  const row = tables.regionReplacement.get(t.replacementId);
  if (row === undefined) return { ok: false };
  if (t.to === 'Complete' && row.state === 'Complete') return { ok: true };
  if (row.state === t.to) return { ok: alreadyThere(row, t) };
  const holds = t.mode === 'take' ? row.operatingSagaId === null : row.operatingSagaId === t.sagaId;
  if (row.state !== t.from || !holds) return { ok: false };
  write(tables, () => {
    row.state = t.to;
    row.operatingSagaId = t.mode === 'take' ? t.sagaId : null;
    if (t.newRegionId !== undefined) row.newRegionId = t.newRegionId;
    if (t.to === 'Complete' && tables.volumeRepair.get(row.volumeId) === row.id) tables.volumeRepair.delete(row.volumeId);
  });
  // The CAS: the record is in the new state, held by the saga that took it or by none.
  if (!(row.state === t.to && row.operatingSagaId === (t.mode === 'take' ? t.sagaId : null))) panic(`request ${row.id}: ${t.from} -> ${t.to} did not land`);
  if (row.state === 'Complete' && tables.volumeRepair.get(row.volumeId) === row.id) panic(`request ${row.id} completed with its volume still locked`);
  return { ok: true };
}

function alreadyThere(row: RegionReplacementRow, t: Transition): boolean {
  if (t.mode === 'take') return row.operatingSagaId === t.sagaId;
  return row.operatingSagaId === null && (t.newRegionId === undefined || row.newRegionId === t.newRegionId);
}

/** Read-write regions on expunged physical disks, of live volumes, that no request replaces yet. */
export function regionsToReplace(tables: Tables): { regionId: string; volumeId: string }[] {
  const replaced = new Set([...tables.regionReplacement.values()].map((r) => r.oldRegionId));
  const found: { regionId: string; volumeId: string }[] = [];
  for (const region of tables.region.values()) {
    if (region.timeDeleted !== null || replaced.has(region.id) || tables.physicalDisk.get(region.downstairs)?.expunged !== true) continue;
    const volume = tables.volume.get(region.volumeId);
    if (volume === undefined || volume.timeDeleted !== null) continue;
    found.push({ regionId: region.id, volumeId: region.volumeId });
  }
  return found;
}

/** A request for one region, with its volume's repair lock; Conflict (not inserted) if another repair holds the volume. */
export function regionReplacementInsert(tables: Tables, r: { replacementId: string; regionId: string; volumeId: string }, nowMs: number): { inserted: boolean } {
  if (tables.regionReplacement.has(r.replacementId)) return { inserted: true };
  const holder = tables.volumeRepair.get(r.volumeId);
  if (holder !== undefined && holder !== r.replacementId) return { inserted: false };
  write(tables, () => {
    tables.volumeRepair.set(r.volumeId, r.replacementId);
    tables.regionReplacement.set(r.replacementId, { id: r.replacementId, oldRegionId: r.regionId, volumeId: r.volumeId, newRegionId: null, state: 'Requested', operatingSagaId: null, requestTimeMs: nowMs });
  });
  if (tables.volumeRepair.get(r.volumeId) !== r.replacementId) panic(`request ${r.replacementId}: inserted without its volume's repair lock`);
  return { inserted: true };
}

export function regionReplacementsIn(tables: Tables, state: RegionReplacementState): RegionReplacementRow[] {
  const rows: RegionReplacementRow[] = [];
  for (const r of tables.regionReplacement.values()) if (r.state === state && r.operatingSagaId === null) rows.push({ ...r });
  return rows;
}

/**
 * arbitrary_region_allocate, one more region for the volume: the first physical disk that is not
 * expunged, holds no live region, and is not already a target of the volume. Idempotent: a re-run
 * of the same saga node gets the region it made. Null when there is no room.
 */
export function regionAllocateReplacement(tables: Tables, r: { replacementId: string; volumeId: string }): { regionId: string; downstairs: string } | null {
  const id = `${r.replacementId}-region`;
  const existing = tables.region.get(id);
  if (existing !== undefined && existing.timeDeleted === null) return { regionId: id, downstairs: existing.downstairs };
  const used = new Set([...tables.region.values()].filter((x) => x.timeDeleted === null).map((x) => x.downstairs));
  for (const [downstairs, disk] of tables.physicalDisk) {
    if (disk.expunged || used.has(downstairs)) continue;
    write(tables, () => tables.region.set(id, { id, volumeId: `${r.volumeId}-new`, downstairs, timeDeleted: null, dataset: downstairs, readOnly: false, deleting: false }));
    if (!(!disk.expunged && tables.region.get(id)?.downstairs === downstairs)) panic(`request ${r.replacementId}: its region not allocated on ${downstairs}`);
    return { regionId: id, downstairs };
  }
  return null;
}

export function regionDelete(tables: Tables, regionId: string, nowMs: number): { deleted: boolean } {
  const region = tables.region.get(regionId);
  if (region === undefined) return { deleted: false };
  if (region.timeDeleted === null) write(tables, () => (region.timeDeleted = nowMs));
  if (region.timeDeleted === null) panic(`region ${regionId}: not deleted`);
  return { deleted: true };
}

export interface ReplacementView {
  readonly request: RegionReplacementRow;
  readonly lastStep: RegionReplacementStepRow | null;
  readonly volumeDeleted: boolean;
  /** The downstairs of the new region, once allocated. */
  readonly newTarget: string | null;
  /** The disk whose volume this is, and the instance it is attached to. */
  readonly disk: { readonly id: string; readonly instanceId: string | null } | null;
}

export function regionReplacementView(tables: Tables, replacementId: string): ReplacementView | null {
  const request = tables.regionReplacement.get(replacementId);
  if (request === undefined) return null;
  let lastStep: RegionReplacementStepRow | null = null;
  for (const s of tables.regionReplacementStep) if (s.replacementId === replacementId && (lastStep === null || s.stepTimeMs >= lastStep.stepTimeMs)) lastStep = s;
  const volume = tables.volume.get(request.volumeId);
  const disk = [...tables.disk.values()].find((d) => d.volumeId === request.volumeId) ?? null;
  const newTarget = request.newRegionId === null ? null : (tables.region.get(request.newRegionId)?.downstairs ?? null);
  return { request: { ...request }, lastStep, volumeDeleted: volume === undefined || volume.timeDeleted !== null, newTarget, disk: disk === null ? null : { id: disk.id, instanceId: disk.instanceId } };
}

/** add_region_replacement_request_step (ON CONFLICT DO NOTHING). */
export function regionReplacementStepInsert(tables: Tables, step: RegionReplacementStepRow): { inserted: boolean } {
  if (tables.regionReplacementStep.some((s) => s.replacementId === step.replacementId && s.stepTimeMs === step.stepTimeMs)) return { inserted: false };
  const { replacementId, stepTimeMs, instanceId, vmmId } = step;
  const steps = tables.regionReplacementStep.length;
  write(tables, () => tables.regionReplacementStep.push({ replacementId, stepTimeMs, instanceId, vmmId }));
  if (tables.regionReplacementStep.length !== steps + 1) panic(`request ${replacementId}: step at ${stepTimeMs} not recorded once`);
  return { inserted: true };
}

/** cpapi_upstairs_repair_finish: one row per repaired downstairs. */
export function upstairsRepairNotify(tables: Tables, r: { upstairsId: string; repairType: 'Reconciliation' | 'Live'; targets: readonly string[]; succeeded: boolean }, nowMs: number): { ok: boolean } {
  const rows = tables.repairNotification.length;
  write(tables, () => {
    for (const target of r.targets) tables.repairNotification.push({ upstairsId: r.upstairsId, repairType: r.repairType, target, succeeded: r.succeeded, timeMs: nowMs });
  });
  if (tables.repairNotification.length !== rows + r.targets.length) panic(`upstairs ${r.upstairsId}: a repair notification per target not recorded`);
  return { ok: true };
}

/** request_has_matching_successful_finish_notification: a repair of the new region succeeded. */
export function repairFinishedFor(tables: Tables, replacementId: string): boolean {
  const request = tables.regionReplacement.get(replacementId);
  const newTarget = request?.newRegionId == null ? null : tables.region.get(request.newRegionId)?.downstairs;
  // Upstream matches the new region's id; a downstairs holds one region, so its address names it
  // (a notification from before the request cannot be about this region).
  return newTarget != null && tables.repairNotification.some((n) => n.succeeded && n.target === newTarget && n.timeMs >= request!.requestTimeMs);
}
