// crucible-activation: three downstairs, one upstairs activated at generation 1 and a guest
// writing, reading and flushing through it. Faults: downstairs crashes (dirty: writes not yet
// flushed) and restarts, partitions and lost messages between the upstairs and each downstairs,
// and upstairs crashes, after which the control plane activates it again at a higher generation,
// so the three regions must be reconciled before the guest sees a byte. Once, at a time drawn
// from 2..8 s, the control plane deactivates the upstairs (a VM stop) and activates it again.

import type { RunLimits } from '../sim/runner.ts';
import { buildCrucibleWorld, crucibleFaultMenu, type CrucibleShape } from './crucible-world.ts';
import type { Scenario } from './scenario.ts';

const LIMITS: RunLimits = { workloadMs: 12_000, livenessMs: 40_000, maxSteps: 200_000 };
const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a'],
  activations: [{ upstairs: 'upstairs-a', gen: 1, afterMs: 0 }],
  // A VM stop and start in the middle: deactivate (final flush), then activate a generation up.
  deactivations: [{ upstairs: 'upstairs-a', atMsMin: 2_000, atMsMax: 8_000, reactivateAfterMs: 500 }],
  guestStartMs: { 'upstairs-a': 200 },
  limits: LIMITS,
};
const FAULT_MENU = crucibleFaultMenu(SHAPE);

export const crucibleActivation: Scenario = {
  name: 'crucible-activation',
  summary: '3 downstairs, 1 upstairs and its guest; activation and reconciliation under downstairs and upstairs crashes, partitions and lost messages',
  limits: LIMITS,
  invariants: ['C-I1', 'C-I2', 'C-I3', 'C-I4', 'C-I5', 'C-I7', 'C-I8', 'C-I9', 'PANIC', 'C-L1', 'C-L2'],
  faultMenu: FAULT_MENU,
  spec: (bugs) => ({ limits: LIMITS, setup: (sim) => buildCrucibleWorld(sim, bugs, SHAPE, FAULT_MENU) }),
};
