import test from 'ava';
import { compareVcrForMigration, compareVcrForTargetReplacement, compareVcrForUpdate, type CrucibleOpts, type RegionVcr, type Vcr, type VolumeVcr } from '../../model/crucible/vcr.ts';
import { ProtocolPanic } from '../../model/assert.ts';

// The VCR comparison, derived from crucible 6d037cb6 upstairs/src/volume.rs `mod test`: the same
// fixtures (generic_crucible_opts, build_subvolume_vcr, build_replacement_subvol, the four
// ReadOnlyParentMode cases) and the same expected outcomes, each test naming its upstream one.
// Upstream builds the replacement of its mismatch tests from sub-volume 0's options for every
// index, so with more than one sub-volume those fail for "multiple different targets" as well;
// here each mismatch case changes one field of one sub-volume, which tests the rule itself.

let serial = 0;
function generic(volId: string): CrucibleOpts {
  serial++;
  return { id: volId, target: [`ds-${serial}a`, `ds-${serial}b`, `ds-${serial}c`], lossy: false, flushTimeout: null, key: `key-${serial}`, certPem: null, keyPem: null, rootCertPem: null, control: null, readOnly: false };
}

function region(opts: CrucibleOpts, gen: number): RegionVcr {
  return { type: 'Region', blockSize: 512, blocksPerExtent: 10, extentCount: 9, opts, gen };
}

/** build_subvolume_vcr: n sub-volumes, sub-volume 0 with `opts`, the others with fresh targets. */
function subVolumes(n: number, opts: CrucibleOpts, gen: number): RegionVcr[] {
  return Array.from({ length: n }, (_, i) => region(i === 0 ? opts : { ...opts, target: generic(opts.id).target }, gen));
}

/** build_replacement_subvol: target[cid] of sub-volume `changed` becomes `newTarget`; with `bump`, every gen +1. */
function replacementOf(subs: readonly RegionVcr[], changed: number, cid: number, newTarget: string, bump: boolean): RegionVcr[] {
  return subs.map((s, i) => {
    const target = i === changed ? s.opts.target.map((t, k) => (k === cid ? newTarget : t)) : s.opts.target;
    return { ...s, gen: bump ? s.gen + 1 : s.gen, opts: { ...s.opts, target } };
  });
}

function volume(id: string, subs: readonly Vcr[], rop: Vcr | null): VolumeVcr {
  return { type: 'Volume', id, blockSize: 512, subVolumes: subs, readOnlyParent: rop };
}

const MODES = ['Both', 'OnlyOriginal', 'OnlyReplacement', 'Neither'] as const;
type RopMode = (typeof MODES)[number];
function rops(mode: RopMode): [Vcr | null, Vcr | null] {
  const rop = region(generic('rop-vol'), 3);
  return [mode === 'Both' || mode === 'OnlyOriginal' ? rop : null, mode === 'Both' || mode === 'OnlyReplacement' ? rop : null];
}

const NEW = '127.0.0.1:8888';

test('volume_replace_basic: one target of one sub-volume changed is a valid replacement, whatever the gens, unless a read-only parent appears', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      for (let cid = 0; cid < 3; cid++) {
        for (const bump of [true, false]) {
          for (const mode of MODES) {
            const subs = subVolumes(n, generic('vol'), 2);
            const [ropO, ropN] = rops(mode);
            const r = compareVcrForTargetReplacement(volume('v', subs, ropO), volume('v', replacementOf(subs, sv, cid, NEW, bump), ropN));
            if (mode === 'OnlyReplacement') t.is(r.kind, 'Invalid', `n=${n} sv=${sv} cid=${cid}`);
            else t.deepEqual(r, { kind: 'Valid', change: { old: subs[sv]!.opts.target[cid]!, new: NEW } });
          }
        }
      }
    }
  }
});

test('test_volume_replace_low_gen: a replacement whose sub-volumes have a lower generation is refused', (t) => {
  for (let n = 2; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      for (const mode of MODES) {
        const subs = subVolumes(n, generic('vol'), 2);
        const lower = replacementOf(subs, sv, 1, NEW, false).map((s) => ({ ...s, gen: 1 }));
        const [ropO, ropN] = rops(mode);
        const r = compareVcrForTargetReplacement(volume('v', subs, ropO), volume('v', lower, ropN));
        t.is(r.kind, 'Invalid');
      }
    }
  }
  const subs = subVolumes(1, generic('vol'), 2);
  const lower = replacementOf(subs, 0, 1, NEW, false).map((s) => ({ ...s, gen: 1 }));
  t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', lower, null)), { ok: false, error: 'New sub_volume generation too low 2 vs. 1' });
});

test('volume_replace_drop_rop: a target change with the read-only parent dropped is valid', (t) => {
  const subs = subVolumes(1, generic('vol'), 2);
  const r = compareVcrForTargetReplacement(volume('v', subs, region(generic('rop'), 3)), volume('v', replacementOf(subs, 0, 1, NEW, true), null));
  t.deepEqual(r, { kind: 'Valid', change: { old: subs[0]!.opts.target[1]!, new: NEW } });
});

test('volume_replace_self: the same VCR on both sides is refused (no difference)', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (const mode of ['Both', 'Neither'] as const) {
      const [rop] = rops(mode);
      const v = volume('v', subVolumes(n, generic('vol'), 2), rop);
      t.deepEqual(compareVcrForTargetReplacement(v, v), { kind: 'Invalid', error: 'The VCRs have no difference' });
    }
  }
});

test('volume_vcr_no_targets: every generation up and no target changed matches the original; a migration accepts it', (t) => {
  for (let n = 1; n <= 2; n++) {
    for (const mode of MODES) {
      const subs = subVolumes(n, generic('vol'), 2);
      const [ropO, ropN] = rops(mode);
      const bumped = volume('v', subs.map((s) => ({ ...s, gen: s.gen + 1 })), ropN);
      const r = compareVcrForTargetReplacement(volume('v', subs, ropO), bumped);
      const m = compareVcrForMigration(volume('v', subs, ropO), bumped);
      if (mode === 'OnlyReplacement') {
        t.is(r.kind, 'Invalid');
        t.false(m.ok);
      } else {
        t.deepEqual(r, { kind: 'ReplacementMatchesOriginal' });
        t.true(m.ok);
      }
    }
  }
});

test('volume_replace_mismatch_vblock, _vid, _vrop: a changed volume block size or id, or an added read-only parent, is refused', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      const subs = subVolumes(n, generic('vol'), 2);
      const repl = replacementOf(subs, sv, 1, NEW, false);
      t.deepEqual(compareVcrForUpdate(volume('v', subs, null), { ...volume('v', repl, null), blockSize: 4096 }), { ok: false, error: 'block_size mismatch 512 vs. 4096' });
      t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('w', repl, null)), { ok: false, error: 'ID mismatch v vs. w' });
      t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', repl, region(generic('rop'), 3))), { ok: false, error: 'VCR added where there should not be one' });
    }
  }
});

test('volume_replace_read_only_parent_ok: one target of the read-only parent changed is a valid replacement', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (const bump of [true, false]) {
      const subs = subVolumes(n, generic('vol'), 2);
      const rop = region(generic('rop'), 4);
      const ropNew: RegionVcr = { ...rop, opts: { ...rop.opts, target: [rop.opts.target[0]!, NEW, rop.opts.target[2]!] } };
      const repl = bump ? subs.map((s) => ({ ...s, gen: s.gen + 1 })) : subs;
      t.deepEqual(compareVcrForTargetReplacement(volume('v', subs, rop), volume('v', repl, ropNew)), { kind: 'Valid', change: { old: rop.opts.target[1]!, new: NEW } });
    }
  }
});

test('volume_replace_with_both_subvol_and_rop_diff: a sub-volume target and a read-only parent target changed is refused', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      const subs = subVolumes(n, generic('vol'), 2);
      const rop = region(generic('rop'), 3);
      const ropNew: RegionVcr = { ...rop, opts: { ...rop.opts, target: [rop.opts.target[0]!, '127.0.0.1:9999', rop.opts.target[2]!] } };
      t.deepEqual(compareVcrForUpdate(volume('v', subs, rop), volume('v', replacementOf(subs, sv, 1, NEW, false), ropNew)), { ok: false, error: 'Multiple target changes' });
    }
  }
});

test('volume_replace_mismatch_sv_bs, _sv_bpe, _sv_ec: a changed region geometry is refused', (t) => {
  for (let n = 1; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      const subs = subVolumes(n, generic('vol'), 2);
      const cases: [Partial<RegionVcr>, string][] = [
        [{ blockSize: 4096 }, 'sub_volume block_size mismatch 512 vs. 4096'],
        [{ blocksPerExtent: 12 }, 'sub_volume blocks_per_extent mismatch 10 vs. 12'],
        [{ extentCount: 11 }, 'sub_volume extent_count mismatch 9 vs. 11'],
      ];
      for (const [change, error] of cases) {
        const repl = replacementOf(subs, sv, 1, NEW, true).map((s, i) => (i === sv ? { ...s, ...change } : s));
        t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', repl as RegionVcr[], null)), { ok: false, error });
      }
    }
  }
});

test('volume_replace_mismatch_opts_*: any other changed option (id, lossy, flush_timeout, key, certificates, control, read_only) is refused', (t) => {
  const cases: [Partial<CrucibleOpts>, string][] = [
    [{ id: 'another-uuid' }, 'id'],
    [{ lossy: true }, 'lossy'],
    [{ flushTimeout: 1.23459 }, 'flush_timeout'],
    [{ key: 'another-key' }, 'key'],
    [{ certPem: 'cert_pem' }, 'cert_pem'],
    [{ keyPem: 'key_pem' }, 'key_pem'],
    [{ rootCertPem: 'root_pem' }, 'root_cert_pem'],
    [{ control: '127.0.0.1:8888' }, 'control'],
    [{ readOnly: true }, 'read_only'],
  ];
  for (let n = 1; n <= 3; n++) {
    for (let sv = 0; sv < n; sv++) {
      const subs = subVolumes(n, generic('vol'), 2);
      for (const [change, field] of cases) {
        const repl = replacementOf(subs, sv, 1, NEW, false).map((s, i) => (i === sv ? { ...s, opts: { ...s.opts, ...change } } : s));
        t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', repl, null)), { ok: false, error: `sub_volume opts ${field} mismatch` }, field);
      }
    }
  }
});

/** The realistic shape of volume_replace_rop_changes: a disk from a snapshot, its read-only parent a Volume of a Region. */
function diskFromSnapshot(ropGen: number): VolumeVcr {
  const sub: RegionVcr = { type: 'Region', blockSize: 512, blocksPerExtent: 131072, extentCount: 128, gen: 3, opts: { ...generic('disk'), key: null, target: ['[102::8]:19004', '[101::7]:19003', '[104::8]:19000'] } };
  const ropRegion: RegionVcr = { type: 'Region', blockSize: 512, blocksPerExtent: 131072, extentCount: 32, gen: ropGen, opts: { ...generic('snap'), key: null, target: ['[103::7]:19002', '[101::7]:19002', '[102::8]:19002'] } };
  return volume('disk', [sub], volume('snapshot', [ropRegion], null));
}

function withRopTarget(v: VolumeVcr, index: number, target: string, gen?: number): VolumeVcr {
  const rop = v.readOnlyParent as VolumeVcr;
  const r = rop.subVolumes[0] as RegionVcr;
  const changed: RegionVcr = { ...r, gen: gen ?? r.gen, opts: { ...r.opts, target: r.opts.target.map((t, k) => (k === index ? target : t)) } };
  return { ...v, readOnlyParent: { ...rop, subVolumes: [changed] } };
}

test('volume_replace_rop_changes (and _increase_gen, _same_gen, _decrease_gen): a read-only parent target of a disk from a snapshot', (t) => {
  const original = diskFromSnapshot(2);
  const bumpedSub = { ...original, subVolumes: [{ ...(original.subVolumes[0] as RegionVcr), gen: 4 }] };
  const want = { ok: true, change: { old: '[101::7]:19002', new: '[111::a]:20000' } };
  t.deepEqual(compareVcrForUpdate(original, withRopTarget(bumpedSub, 1, '[111::a]:20000')), want, 'volume_replace_rop_changes');
  t.deepEqual(compareVcrForUpdate(original, withRopTarget(bumpedSub, 1, '[111::a]:20000', 3)), want, 'volume_replace_rop_changes_increase_gen');
  t.deepEqual(compareVcrForUpdate(original, withRopTarget(original, 1, '[111::a]:20000')), want, 'volume_replace_rop_changes_same_gen');
  t.deepEqual(compareVcrForUpdate(original, withRopTarget(bumpedSub, 1, '[111::a]:20000', 1)), { ok: false, error: 'New sub_volume generation too low 2 vs. 1' }, 'volume_replace_rop_changes_decrease_gen');
});

test('volume_replace_second_rop_changes: a target of the read-only parent of the read-only parent', (t) => {
  const deepest: RegionVcr = { type: 'Region', blockSize: 512, blocksPerExtent: 131072, extentCount: 32, gen: 1, opts: { ...generic('image'), key: null, target: ['[203::7]:19002', '[201::7]:19002', '[202::8]:19002'] } };
  const base = diskFromSnapshot(2);
  const original: VolumeVcr = { ...base, readOnlyParent: { ...(base.readOnlyParent as VolumeVcr), readOnlyParent: volume('image', [deepest], null) } };
  const changedDeepest: RegionVcr = { ...deepest, opts: { ...deepest.opts, target: ['[203::7]:19002', '[201::7]:19002', '[111::a]:20000'] } };
  const replacement: VolumeVcr = { ...original, readOnlyParent: { ...(original.readOnlyParent as VolumeVcr), readOnlyParent: volume('image', [changedDeepest], null) } };
  t.deepEqual(compareVcrForUpdate(original, replacement), { ok: true, change: { old: '[202::8]:19002', new: '[111::a]:20000' } });
});

// Rules no upstream unit test covers, read from the code.

test('a generation bump outside sub-volume 0 alone (sub-volume 1, or the read-only parent) is refused', (t) => {
  const subs = subVolumes(2, generic('vol'), 2);
  t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', [subs[0]!, { ...subs[1]!, gen: 3 }], null)), { ok: false, error: 'ROP has generation bump!' });
  const rop = region(generic('rop'), 3);
  t.deepEqual(compareVcrForUpdate(volume('v', subs, rop), volume('v', subs, { ...rop, gen: 4 })), { ok: false, error: 'ROP has generation bump!' });
  t.deepEqual(compareVcrForUpdate(volume('v', subs, rop), volume('v', [{ ...subs[0]!, gen: 3 }, subs[1]!], { ...rop, gen: 4 })), { ok: true, change: null }, 'with sub-volume 0 bumped too');
});

test('a dropped read-only parent alone is no difference; two targets of one region, or a swap, are refused', (t) => {
  const subs = subVolumes(1, generic('vol'), 2);
  t.deepEqual(compareVcrForUpdate(volume('v', subs, region(generic('rop'), 3)), volume('v', subs, null)), { ok: false, error: 'The VCRs have no difference' });
  const [a, b, c] = subs[0]!.opts.target as [string, string, string];
  for (const target of [[NEW, '127.0.0.1:9999', c], [b, a, c]]) {
    t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', [{ ...subs[0]!, gen: 3, opts: { ...subs[0]!.opts, target } }], null)), { ok: false, error: 'sub_volume multiple different targets' });
  }
});

test('one target changed in each of two sub-volumes is refused; a nested Volume sub-volume with a target change is unsupported', (t) => {
  const subs = subVolumes(2, generic('vol'), 2);
  const both = replacementOf(replacementOf(subs, 0, 1, NEW, false), 1, 2, '127.0.0.1:9999', false);
  t.deepEqual(compareVcrForUpdate(volume('v', subs, null), volume('v', both, null)), { ok: false, error: 'Multiple target changes' });
  const inner = volume('inner', [subs[1]!], null);
  t.deepEqual(compareVcrForUpdate(volume('v', [subs[0]!, inner], null), volume('v', [replacementOf(subs, 0, 1, NEW, false)[0]!, inner], null)), { ok: false, error: 'Unsupported multi level CompareResult' });
});

test('a Url or File VCR cannot be replaced; a bare Region pair can; a migration refuses a target change', (t) => {
  const url: Vcr = { type: 'Url', id: 'u', blockSize: 512, url: 'http://x' };
  t.deepEqual(compareVcrForUpdate(url, url), { ok: false, error: 'Cannot replace VCR' });
  const r = region(generic('vol'), 2);
  t.deepEqual(compareVcrForUpdate(r, replacementOf([r], 0, 0, NEW, false)[0]!), { ok: true, change: { old: r.opts.target[0]!, new: NEW } });
  t.deepEqual(compareVcrForMigration(volume('v', [r], null), volume('v', replacementOf([r], 0, 0, NEW, true), null)), { ok: false, error: 'VCR targets are different' });
  t.false(compareVcrForMigration(volume('v', [r], null), volume('v', [r], null)).ok, 'identical VCRs are no migration either');
});

test('where upstream panics (fewer than three targets), the model panics too: a finding, not a refusal', (t) => {
  const r = region(generic('vol'), 2);
  const two: RegionVcr = { ...r, opts: { ...r.opts, target: r.opts.target.slice(0, 2) } };
  t.throws(() => compareVcrForUpdate(two, { ...two, gen: 3 }), { instanceOf: ProtocolPanic });
});
