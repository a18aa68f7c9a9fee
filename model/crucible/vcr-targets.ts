// Read-only and read-write targets of a VCR, and the swap of one read-only target for another, as
// Nexus reads VCRs (nexus/db-queries/src/db/datastore/volume.rs `read_only_resources_associated_with_volume`,
// `read_only_target_in_vcr`, `replace_read_only_target_in_vcr`, omicron b848b6df85). A Region counts
// as read-only by its `read_only` option, wherever it sits: a snapshot volume's sub-volumes, or any
// Region under a read-only parent (where upstream refuses a read-write one).

import { panic } from '../assert.ts';
import type { RegionVcr, Vcr } from './vcr.ts';

/** Every Region in the tree, sub-volumes first, then the read-only parent chain. */
function regions(vcr: Vcr, underParent: boolean, out: { region: RegionVcr; underParent: boolean }[]): void {
  if (vcr.type === 'Region') {
    out.push({ region: vcr, underParent });
    return;
  }
  if (vcr.type !== 'Volume') return;
  for (const s of vcr.subVolumes) regions(s, underParent, out);
  if (vcr.readOnlyParent !== null) regions(vcr.readOnlyParent, true, out);
}

function allRegions(vcr: Vcr): { region: RegionVcr; underParent: boolean }[] {
  const out: { region: RegionVcr; underParent: boolean }[] = [];
  regions(vcr, false, out);
  for (const r of out) if (r.underParent && !r.region.opts.readOnly) panic(`read-write region under read-only parent in ${r.region.opts.id}`);
  return out;
}

/** The read-only targets, once per occurrence. */
export function readOnlyTargets(vcr: Vcr): string[] {
  return allRegions(vcr).flatMap((r) => (r.region.opts.readOnly ? r.region.opts.target : []));
}

/** The read-write targets (regions a disk writes to). */
export function readWriteTargets(vcr: Vcr): string[] {
  return allRegions(vcr).flatMap((r) => (r.region.opts.readOnly ? [] : r.region.opts.target));
}

/** The region sets (each Region's targets), for the distinct-targets check. */
export function regionSets(vcr: Vcr): (readonly string[])[] {
  return allRegions(vcr).map((r) => r.region.opts.target);
}

/** Every read-only occurrence of `old` replaced by `replacement`; the generation is not bumped (as upstream). */
export function replaceReadOnlyTarget(vcr: Vcr, old: string, replacement: string): { vcr: Vcr; replaced: number } {
  let replaced = 0;
  function walk(v: Vcr): Vcr {
    if (v.type === 'Region') {
      if (!v.opts.readOnly || !v.opts.target.includes(old)) return v;
      replaced += v.opts.target.filter((t) => t === old).length;
      return { ...v, opts: { ...v.opts, target: v.opts.target.map((t) => (t === old ? replacement : t)) } };
    }
    if (v.type !== 'Volume') return v;
    return { ...v, subVolumes: v.subVolumes.map(walk), readOnlyParent: v.readOnlyParent === null ? null : walk(v.readOnlyParent) };
  }
  const out = walk(vcr);
  return { vcr: out, replaced };
}

/** A Volume of one Region sub-volume: a disk's (read-write), a snapshot's, NRV or a stash (read-only). */
export function singleRegionVolume(id: string, targets: readonly string[], readOnly: boolean, gen: number, readOnlyParent: Vcr | null, geometry = { extentCount: 4, blocksPerExtent: 4 }): Vcr {
  const opts = { id, target: [...targets], lossy: false, flushTimeout: null, key: null, certPem: null, keyPem: null, rootCertPem: null, control: null, readOnly };
  return { type: 'Volume', id, blockSize: 512, readOnlyParent, subVolumes: [{ type: 'Region', blockSize: 512, ...geometry, opts, gen }] };
}
