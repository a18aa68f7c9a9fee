// The VolumeConstructionRequest (crucible-client-types, crucible 6d037cb6) and the comparison a
// Volume makes before it takes a new one (upstairs/src/volume.rs `compare_vcr_for_update`,
// `compare_vcr_for_target_replacement`, `compare_vcr_for_migration`). The checks run in
// upstream's order and fail with upstream's messages (every one is ReplaceRequestInvalid there):
// Phase A walks both trees (variants, Volume id, block size, sub-volume count, read-only parent
// present or dropped); Phase B compares each Region pair (equal: Same; else geometry, a
// generation not lower, the options, then targets by position: one changed is a Target delta,
// none a Generation delta, two or more an error); Phase C puts the deltas together (more than
// one target change anywhere; no difference at all; a generation bump only outside sub-volume 0).
// Targets are node ids here (a socket address upstream). A Region's generation is `gen`, as the
// JSON spells it. Where upstream panics (fewer than three targets, a Volume with no sub-volume),
// this panics too: a PANIC finding, not a refusal.

import { panic } from '../assert.ts';
import type { NodeId } from '../../ports/index.ts';

export interface CrucibleOpts {
  readonly id: string;
  readonly target: readonly NodeId[];
  readonly lossy: boolean;
  readonly flushTimeout: number | null;
  readonly key: string | null;
  readonly certPem: string | null;
  readonly keyPem: string | null;
  readonly rootCertPem: string | null;
  readonly control: string | null;
  readonly readOnly: boolean;
}

export type Vcr =
  | { readonly type: 'Volume'; readonly id: string; readonly blockSize: number; readonly subVolumes: readonly Vcr[]; readonly readOnlyParent: Vcr | null }
  | { readonly type: 'Region'; readonly blockSize: number; readonly blocksPerExtent: number; readonly extentCount: number; readonly opts: CrucibleOpts; readonly gen: number }
  | { readonly type: 'Url'; readonly id: string; readonly blockSize: number; readonly url: string }
  | { readonly type: 'File'; readonly id: string; readonly blockSize: number; readonly path: string };

export type RegionVcr = Extract<Vcr, { type: 'Region' }>;
export type VolumeVcr = Extract<Vcr, { type: 'Volume' }>;

/** The one target a replacement changes. */
export interface TargetChange {
  readonly old: NodeId;
  readonly new: NodeId;
}

/** compare_vcr_for_update: Ok(Some(change)), Ok(None) (only generations moved), or an error. */
export type VcrComparison = { readonly ok: true; readonly change: TargetChange | null } | { readonly ok: false; readonly error: string };

/** ReplacementRequestCheck: what target_replace does with a new VCR. */
export type ReplacementCheck = { readonly kind: 'Valid'; readonly change: TargetChange } | { readonly kind: 'ReplacementMatchesOriginal' } | { readonly kind: 'Invalid'; readonly error: string };

type RegionDelta = { readonly kind: 'Same' } | { readonly kind: 'Generation' } | ({ readonly kind: 'Target' } & TargetChange);

type CompareResult =
  | { readonly kind: 'Volume'; readonly subCompares: readonly CompareResult[]; readonly readOnlyParent: CompareResult }
  | { readonly kind: 'Region'; readonly delta: RegionDelta }
  | { readonly kind: 'NewMissing' };

/** Thrown inside the walk, turned into an error result at the top: upstream's `crucible_bail!`. */
class Invalid extends Error {}

/** The refusal of a replacement identical to the original (what a repeated replacement gets). */
export const VCRS_HAVE_NO_DIFFERENCE = 'The VCRs have no difference';

function invalid(message: string): never {
  throw new Invalid(message);
}

export function compareVcrForUpdate(original: Vcr, replacement: Vcr): VcrComparison {
  try {
    return { ok: true, change: combine(compareTrees(original, replacement)) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, error: error.message };
    throw error;
  }
}

export function compareVcrForTargetReplacement(original: Vcr, replacement: Vcr): ReplacementCheck {
  const r = compareVcrForUpdate(original, replacement);
  if (!r.ok) return { kind: 'Invalid', error: r.error };
  return r.change === null ? { kind: 'ReplacementMatchesOriginal' } : { kind: 'Valid', change: r.change };
}

/** A migration target's VCR: generations up (sub-volume 0 strictly), no target changed. */
export function compareVcrForMigration(original: Vcr, replacement: Vcr): { readonly ok: true } | { readonly ok: false; readonly error: string } {
  const r = compareVcrForUpdate(original, replacement);
  if (!r.ok) return r;
  return r.change === null ? { ok: true } : { ok: false, error: 'VCR targets are different' };
}

/** Phase A: the structural walk, depth first: the volume's own fields, sub-volumes, then the read-only parent. */
function compareTrees(o: Vcr, n: Vcr): CompareResult {
  if (o.type === 'Region' && n.type === 'Region') return { kind: 'Region', delta: compareRegions(o, n) };
  if (o.type !== 'Volume' || n.type !== 'Volume') invalid('Cannot replace VCR');
  if (o.id !== n.id) invalid(`ID mismatch ${o.id} vs. ${n.id}`);
  if (o.blockSize !== n.blockSize) invalid(`block_size mismatch ${o.blockSize} vs. ${n.blockSize}`);
  if (o.subVolumes.length !== n.subVolumes.length) invalid(`subvolume len mismatch ${o.subVolumes.length} vs. ${n.subVolumes.length}`);
  const subCompares = o.subVolumes.map((sv, i) => compareTrees(sv, n.subVolumes[i]!));
  let readOnlyParent: CompareResult = { kind: 'NewMissing' };
  if (n.readOnlyParent !== null) {
    if (o.readOnlyParent === null) invalid('VCR added where there should not be one');
    readOnlyParent = compareTrees(o.readOnlyParent, n.readOnlyParent);
  }
  return { kind: 'Volume', subCompares, readOnlyParent };
}

/** Phase B: one Region pair. */
function compareRegions(o: RegionVcr, n: RegionVcr): RegionDelta {
  if (sameRegion(o, n)) return { kind: 'Same' };
  if (o.blockSize !== n.blockSize) invalid(`sub_volume block_size mismatch ${o.blockSize} vs. ${n.blockSize}`);
  if (o.blocksPerExtent !== n.blocksPerExtent) invalid(`sub_volume blocks_per_extent mismatch ${o.blocksPerExtent} vs. ${n.blocksPerExtent}`);
  if (o.extentCount !== n.extentCount) invalid(`sub_volume extent_count mismatch ${o.extentCount} vs. ${n.extentCount}`);
  if (n.gen < o.gen) invalid(`New sub_volume generation too low ${o.gen} vs. ${n.gen}`);
  const oo = o.opts;
  const no = n.opts;
  const fields: readonly (readonly [string, unknown, unknown])[] = [
    ['id', oo.id, no.id],
    ['lossy', oo.lossy, no.lossy],
    ['flush_timeout', oo.flushTimeout, no.flushTimeout],
    ['key', oo.key, no.key],
    ['cert_pem', oo.certPem, no.certPem],
    ['key_pem', oo.keyPem, no.keyPem],
    ['root_cert_pem', oo.rootCertPem, no.rootCertPem],
    ['control', oo.control, no.control],
    ['read_only', oo.readOnly, no.readOnly],
  ];
  for (const [name, a, b] of fields) if (a !== b) invalid(`sub_volume opts ${name} mismatch`);
  if (oo.target.length < 3 || no.target.length < 3) panic(`a region with fewer than three targets (${oo.target.length}, ${no.target.length}): upstream indexes target[0..3]`);
  let change: TargetChange | null = null;
  for (let i = 0; i < 3; i++) {
    if (oo.target[i] === no.target[i]) continue;
    if (change !== null) invalid('sub_volume multiple different targets');
    change = { old: oo.target[i]!, new: no.target[i]! };
  }
  if (change !== null) return { kind: 'Target', ...change };
  if (o.gen === n.gen) panic('regions differ in nothing but targets beyond the third: upstream asserts the generations differ');
  return { kind: 'Generation' };
}

function sameRegion(o: RegionVcr, n: RegionVcr): boolean {
  return o.gen === n.gen && o.blockSize === n.blockSize && o.blocksPerExtent === n.blocksPerExtent && o.extentCount === n.extentCount && sameOpts(o.opts, n.opts);
}

function sameOpts(a: CrucibleOpts, b: CrucibleOpts): boolean {
  return (
    a.id === b.id &&
    a.lossy === b.lossy &&
    a.flushTimeout === b.flushTimeout &&
    a.key === b.key &&
    a.certPem === b.certPem &&
    a.keyPem === b.keyPem &&
    a.rootCertPem === b.rootCertPem &&
    a.control === b.control &&
    a.readOnly === b.readOnly &&
    a.target.length === b.target.length &&
    a.target.every((t, i) => t === b.target[i])
  );
}

/** Phase C: every delta of the tree together (sub-volumes and the whole read-only parent chain, breadth first). */
function combine(top: CompareResult): TargetChange | null {
  const changes: TargetChange[] = [];
  let allSame = true;
  const queue: CompareResult[] = [top];
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i]!;
    if (c.kind === 'Volume') queue.push(...c.subCompares, c.readOnlyParent);
    else if (c.kind === 'Region' && c.delta.kind !== 'Same') {
      allSame = false;
      if (c.delta.kind === 'Target') changes.push({ old: c.delta.old, new: c.delta.new });
    }
  }
  if (changes.length > 1) invalid('Multiple target changes');
  if (allSame) invalid(VCRS_HAVE_NO_DIFFERENCE);
  if (top.kind === 'Region') return changes[0] ?? null;
  if (top.kind === 'NewMissing') invalid('Replacement missing when comparing to replace');
  if (changes.length === 0) {
    const first = top.subCompares[0];
    if (first === undefined) panic('a Volume with no sub-volume: upstream indexes sub_compares[0]');
    if (isAllSame(first)) invalid('ROP has generation bump!');
    return null;
  }
  if (top.subCompares.some((s) => s.kind !== 'Region')) invalid('Unsupported multi level CompareResult');
  return changes[0]!;
}

function isAllSame(c: CompareResult): boolean {
  if (c.kind === 'NewMissing') return false;
  if (c.kind === 'Region') return c.delta.kind === 'Same';
  return c.subCompares.every(isAllSame) && isAllSame(c.readOnlyParent);
}

/** Every read-write target of a Volume (its sub-volumes; not the read-only parent), as `targets()` upstream. */
export function volumeTargets(vcr: Vcr): NodeId[] {
  if (vcr.type === 'Region') return [...vcr.opts.target];
  if (vcr.type === 'Volume') return vcr.subVolumes.flatMap(volumeTargets);
  return [];
}

/** The Region sub-volumes of a Volume, in order (what a Volume constructs an upstairs for). */
export function regionSubVolumes(vcr: Vcr): RegionVcr[] {
  if (vcr.type === 'Region') return [vcr];
  if (vcr.type !== 'Volume') return [];
  return vcr.subVolumes.filter((s): s is RegionVcr => s.type === 'Region');
}
