// crucible-replacement: three downstairs and two spares with fresh regions of their own; one
// upstairs activated at generation 1 after 150 ms and its guest. The control plane replaces ds-1
// with ds-4 at a time drawn from 100..250 ms, so it lands while the upstairs is Initializing,
// activating or Active, and ds-2 with ds-5 at 150..3000 ms, often while the first replacement is
// still repairing (refused as busy, then asked again). Same faults as the other Crucible
// scenarios, over all five downstairs.

import { crucibleScenario, type CrucibleShape } from './crucible-world.ts';

const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a'],
  spares: ['ds-4', 'ds-5'],
  activations: [{ upstairs: 'upstairs-a', gen: 1, afterMs: 150 }],
  replacements: [
    { upstairs: 'upstairs-a', old: 'ds-1', new: 'ds-4', atMsMin: 100, atMsMax: 250 },
    { upstairs: 'upstairs-a', old: 'ds-2', new: 'ds-5', atMsMin: 150, atMsMax: 3_000 },
  ],
  guestStartMs: { 'upstairs-a': 300 },
};

export const crucibleReplacement = crucibleScenario(
  'crucible-replacement',
  '3 downstairs and 2 spares, 1 upstairs; two targets replaced, while initializing, activating or active, and while another is still repairing',
  SHAPE,
  ['C-L1', 'C-L2', 'C-L3'],
);
