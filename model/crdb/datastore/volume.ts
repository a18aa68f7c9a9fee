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

import type { Vcr } from '../../crucible/vcr.ts';
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
  const targets = readWriteTargets(volume.vcr);
  const oldPresent = targets.includes(oldRegion.downstairs);
  const newPresent = targets.includes(newRegion.downstairs);
  if (!oldPresent && newPresent) return 'AlreadyHappened';
  if (oldPresent === newPresent) return 'Error';
  write(tables, () => {
    volume.vcr = mapRegions(volume.vcr, (region) => ({ ...region, gen: region.gen + 1, opts: { ...region.opts, target: region.opts.target.map((t) => (t === oldRegion.downstairs ? newRegion.downstairs : t)) } }));
    newRegion.volumeId = volume.id;
    oldRegion.volumeId = `${volume.id}-replaced-${oldRegion.id}`;
  });
  return 'Done';
}

/** Every Region reached through sub-volumes (breadth first), never the read-only parent. */
function mapRegions(vcr: Vcr, f: (r: Extract<Vcr, { type: 'Region' }>) => Vcr): Vcr {
  if (vcr.type === 'Region') return f(vcr);
  if (vcr.type !== 'Volume') return vcr;
  return { ...vcr, subVolumes: vcr.subVolumes.map((s) => mapRegions(s, f)) };
}

function readWriteTargets(vcr: Vcr): string[] {
  if (vcr.type === 'Region') return [...vcr.opts.target];
  if (vcr.type !== 'Volume') return [];
  return vcr.subVolumes.flatMap(readWriteTargets);
}

export function physicalDiskExpunge(tables: Tables, downstairs: string): { expunged: boolean } {
  const disk = tables.physicalDisk.get(downstairs);
  if (disk === undefined) return { expunged: false };
  if (!disk.expunged) write(tables, () => (disk.expunged = true));
  return { expunged: true };
}
