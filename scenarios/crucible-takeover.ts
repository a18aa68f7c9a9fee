// crucible-takeover: three downstairs; upstairs-a is activated at generation 1 and its guest
// writes; once it is active, upstairs-b (a live-migration target) is activated at generation 2
// against the same region set while IO is in flight. The first must end Disabled (or unable to do
// IO, if it never heard of the takeover) and no write it had flushed may be lost.

import type { RunLimits } from '../sim/runner.ts';
import { buildCrucibleWorld, crucibleFaultMenu, type CrucibleShape } from './crucible-world.ts';
import type { Scenario } from './scenario.ts';

const LIMITS: RunLimits = { workloadMs: 12_000, livenessMs: 40_000, maxSteps: 200_000 };
const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a', 'upstairs-b'],
  activations: [
    { upstairs: 'upstairs-a', gen: 1, afterMs: 0 },
    { upstairs: 'upstairs-b', gen: 2, afterMs: 1_500 },
  ],
  guestStartMs: { 'upstairs-a': 200, 'upstairs-b': 2_500 },
  limits: LIMITS,
};
const FAULT_MENU = crucibleFaultMenu(SHAPE);

export const crucibleTakeover: Scenario = {
  name: 'crucible-takeover',
  summary: '3 downstairs; a second upstairs at a higher generation takes the region set over while the first has IO in flight',
  limits: LIMITS,
  invariants: ['C-I1', 'C-I2', 'C-I3', 'C-I4', 'C-I5', 'C-I7', 'C-I8', 'C-I9', 'PANIC', 'C-L1', 'C-L2', 'C-L4'],
  faultMenu: FAULT_MENU,
  spec: (bugs) => ({ limits: LIMITS, setup: (sim) => buildCrucibleWorld(sim, bugs, SHAPE, FAULT_MENU) }),
};
