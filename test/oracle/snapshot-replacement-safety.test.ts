// V-I6 (the new region held while volumes may still be moved onto it), fed states made by the
// control plane driven by hand: the one it must name, and the one after a finish saga unwound.

import test from 'ava';
import { newRegionHeld } from '../../oracle/snapshot-replacement-safety.ts';
import { ControlPlane } from '../helpers/snapshot-control-plane.ts';

function diskSnapshotDisk(cp: ControlPlane): void {
  cp.api({ type: 'DiskCreate', diskId: 'disk-a', snapshotId: null });
  cp.api({ type: 'SnapshotCreate', snapshotId: 'snapshot-s', diskId: 'disk-a' });
  cp.api({ type: 'DiskCreate', diskId: 'disk-b', snapshotId: 'snapshot-s' });
}

test('V-I6 names a Running request whose new region was freed while the old target is still named', (t) => {
  const cp = new ControlPlane(['nexus/rsr-no-new-region-volume']);
  diskSnapshotDisk(cp);
  cp.expunge(cp.datasetOfSnapshot('snapshot-s'));
  cp.activate('start');
  t.is(newRegionHeld(cp.tables), null);
  cp.api({ type: 'SnapshotDelete', snapshotId: 'snapshot-s' });
  cp.activate('gc');
  t.like(newRegionHeld(cp.tables), { invariant: 'V-I6' });
});

// A finish saga starts only once the old target is gone (read_only_target_deleted); its volume
// delete has no undo, so unwinding after it freed the new region leaves the request Running with
// nothing left to move: not a violation, and the next finish completes it.
test('V-I6 accepts a request back in Running after its finish saga freed the new region and unwound', (t) => {
  const cp = new ControlPlane();
  diskSnapshotDisk(cp);
  cp.expunge(cp.datasetOfSnapshot('snapshot-s'));
  for (const task of ['start', 'gc', 'step', 'step', 'gc'] as const) cp.activate(task);
  cp.api({ type: 'SnapshotDelete', snapshotId: 'snapshot-s' });
  cp.api({ type: 'DiskDelete', diskId: 'disk-b' });
  const request = [...cp.tables.regionSnapshotReplacement.values()][0]!;
  t.is(request.state, 'Running');
  t.false(cp.tables.regionSnapshot.has(request.oldRegionSnapshot), 'the old target is gone');
  cp.activate('finish', 3); // fails at delete_crucible_snapshots: the new region's volume is deleted and the region with it
  t.is(request.state, 'Running', 'the finish saga unwound');
  t.not(cp.tables.region.get(request.newRegionId!)?.deleting, false, 'its new region freed');
  t.is(newRegionHeld(cp.tables), null);
  cp.activate('finish');
  t.is(request.state, 'Complete');
  t.is(newRegionHeld(cp.tables), null);
});
