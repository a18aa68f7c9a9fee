// Volumes and their VCRs (nexus/db-queries/src/db/datastore/volume.rs, omicron b848b6df85).
// - volume_checkout for an instance start: every Region sub-volume's generation goes up by one in
//   the stored VCR, and the VCR as it was before the bump is returned. The caller activates with
//   the old generation, which still outranks every earlier checkout (each stored a higher one);
//   the stored VCR stays one ahead, so a replacement computed from it is always an increase.
//   Returning the bumped VCR instead would leave a replacement done while no VMM ran (live repair
//   finishing unobserved) with nothing to tell the next VMM: its VCR would equal the stored one.
// - volume_replace_region: in one transaction, the old region's target becomes the new region's in
//   every Region sub-volume (the read-only parent is skipped: only read-write regions are
//   replaced), the generation of every Region sub-volume goes up by one (the VCR comparison
//   refuses an update with no generation increase), and the regions swap volumes. Outcomes: Done,
//   AlreadyHappened (old absent, new present: a re-run), ExistingVolumeSoftDeleted or
//   ExistingVolumeHardDeleted (nothing changes), or an error (both or neither present).

import { panic } from '../../assert.ts';
import { regionSubVolumes, volumeTargets, type Vcr } from '../../crucible/vcr.ts';
import { write, type Tables } from '../tables.ts';

export type VolumeReplaceResult = 'Done' | 'AlreadyHappened' | 'ExistingVolumeSoftDeleted' | 'ExistingVolumeHardDeleted' | 'Error';

/** Each disk attached to the instance, its volume checked out for a start. */
export function volumeCheckoutForInstance(tables: Tables, instanceId: string): { readonly backendId: string; readonly vcr: Vcr }[] {
  const disks: { backendId: string; vcr: Vcr }[] = [];
  for (const disk of tables.disk.values()) {
    if (disk.instanceId !== instanceId) continue;
    const volume = tables.volume.get(disk.volumeId);
    if (volume === undefined || volume.timeDeleted !== null) continue;
    const checkedOut = volume.vcr;
    write(tables, () => (volume.vcr = mapRegions(volume.vcr, (r) => ({ ...r, gen: r.gen + 1 }))));
    if (!generationsAbove(volume.vcr, checkedOut)) panic(`volume ${volume.id}: a checkout that did not raise every generation`);
    disks.push({ backendId: disk.id, vcr: checkedOut });
  }
  return disks;
}

export function volumeGet(tables: Tables, volumeId: string): Vcr | null {
  const v = tables.volume.get(volumeId);
  return v === undefined || v.timeDeleted !== null ? null : v.vcr;
}

export function volumeReplaceRegion(tables: Tables, r: { volumeId: string; oldRegionId: string; newRegionId: string }): VolumeReplaceResult {
  const volume = tables.volume.get(r.volumeId);
  if (volume === undefined) return 'ExistingVolumeHardDeleted';
  if (volume.timeDeleted !== null) return 'ExistingVolumeSoftDeleted';
  const oldRegion = tables.region.get(r.oldRegionId);
  const newRegion = tables.region.get(r.newRegionId);
  if (oldRegion === undefined || newRegion === undefined) return 'Error';
  if (oldRegion === newRegion) panic(`volume ${r.volumeId}: region ${r.oldRegionId} replaced by itself`);
  const targets = volumeTargets(volume.vcr);
  const oldPresent = targets.includes(oldRegion.downstairs);
  const newPresent = targets.includes(newRegion.downstairs);
  if (!oldPresent && newPresent) return 'AlreadyHappened';
  if (oldPresent === newPresent) return 'Error';
  const before = volume.vcr;
  write(tables, () => {
    volume.vcr = mapRegions(volume.vcr, (region) => ({ ...region, gen: region.gen + 1, opts: { ...region.opts, target: region.opts.target.map((t) => (t === oldRegion.downstairs ? newRegion.downstairs : t)) } }));
    newRegion.volumeId = volume.id;
    oldRegion.volumeId = `${volume.id}-replaced-${oldRegion.id}`;
  });
  const after = volumeTargets(volume.vcr);
  if (after.includes(oldRegion.downstairs) || !after.includes(newRegion.downstairs) || !generationsAbove(volume.vcr, before)) panic(`volume ${volume.id}: the replacement of ${oldRegion.downstairs} did not take`);
  return 'Done';
}

/** Every Region sub-volume of `later` one generation or more above the same one of `earlier`. */
function generationsAbove(later: Vcr, earlier: Vcr): boolean {
  const was = regionSubVolumes(earlier);
  return regionSubVolumes(later).every((r, i) => r.gen > was[i]!.gen);
}

/** The VCR with `f` applied to every Region reached through sub-volumes, never the read-only parent. */
function mapRegions(vcr: Vcr, f: (r: Extract<Vcr, { type: 'Region' }>) => Vcr): Vcr {
  if (vcr.type === 'Region') return f(vcr);
  if (vcr.type !== 'Volume') return vcr;
  return { ...vcr, subVolumes: vcr.subVolumes.map((s) => mapRegions(s, f)) };
}

export function physicalDiskExpunge(tables: Tables, downstairs: string): { expunged: boolean } {
  const disk = tables.physicalDisk.get(downstairs);
  if (disk === undefined) return { expunged: false };
  if (!disk.expunged) write(tables, () => (disk.expunged = true));
  if (tables.physicalDisk.get(downstairs)?.expunged !== true) panic(`physical disk ${downstairs}: not expunged`);
  return { expunged: true };
}
