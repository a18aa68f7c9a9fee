// crucible-activation: three downstairs, one upstairs activated at generation 1 and a guest
// writing, reading and flushing through it. Faults: downstairs crashes (dirty: writes not yet
// flushed) and restarts, partitions and lost messages between the upstairs and each downstairs,
// and upstairs crashes, after which the control plane activates it again at a higher generation,
// so the three regions must be reconciled before the guest sees a byte. Once, at a time drawn
// from 2..8 s, the control plane deactivates the upstairs (a VM stop) and activates it again.

import { crucibleScenario, type CrucibleShape } from './crucible-world.ts';

const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a'],
  activations: [{ upstairs: 'upstairs-a', gen: 1, afterMs: 0 }],
  // A VM stop and start in the middle: deactivate (final flush), then activate a generation up.
  deactivations: [{ upstairs: 'upstairs-a', atMsMin: 2_000, atMsMax: 8_000, reactivateAfterMs: 500 }],
  guestStartMs: { 'upstairs-a': 200 },
};

export const crucibleActivation = crucibleScenario(
  'crucible-activation',
  '3 downstairs, 1 upstairs and its guest; activation and reconciliation under downstairs and upstairs crashes, partitions and lost messages',
  SHAPE,
  ['C-L1', 'C-L2'],
);
