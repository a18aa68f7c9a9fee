// crucible-replacement: three downstairs and two spares with fresh regions of their own; one
// upstairs activated at generation 1 after 150 ms and its guest. The control plane replaces ds-1
// with ds-4 at a time drawn from 100..250 ms, so it lands while the upstairs is Initializing,
// activating or Active, and ds-2 with ds-5 at 150..3000 ms, often while the first replacement is
// still repairing (refused as busy, then asked again). Same faults as the other Crucible
// scenarios, over all five downstairs.

import type { RunLimits } from '../sim/runner.ts';
import { buildCrucibleWorld, crucibleFaultMenu, type CrucibleShape } from './crucible-world.ts';
import type { Scenario } from './scenario.ts';

const LIMITS: RunLimits = { workloadMs: 12_000, livenessMs: 40_000, maxSteps: 200_000 };
const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a'],
  spares: ['ds-4', 'ds-5'],
  activations: [{ upstairs: 'upstairs-a', gen: 1, afterMs: 150 }],
  replacements: [
    { upstairs: 'upstairs-a', old: 'ds-1', new: 'ds-4', atMsMin: 100, atMsMax: 250 },
    { upstairs: 'upstairs-a', old: 'ds-2', new: 'ds-5', atMsMin: 150, atMsMax: 3_000 },
  ],
  guestStartMs: { 'upstairs-a': 300 },
  limits: LIMITS,
};
const FAULT_MENU = crucibleFaultMenu(SHAPE);

export const crucibleReplacement: Scenario = {
  name: 'crucible-replacement',
  summary: '3 downstairs and 2 spares, 1 upstairs; two targets replaced, while initializing, activating or active, and while another is still repairing',
  limits: LIMITS,
  invariants: ['C-I1', 'C-I2', 'C-I3', 'C-I4', 'C-I5', 'C-I7', 'C-I8', 'C-I9', 'PANIC', 'C-L1', 'C-L2', 'C-L3'],
  faultMenu: FAULT_MENU,
  spec: (bugs) => ({ limits: LIMITS, setup: (sim) => buildCrucibleWorld(sim, bugs, SHAPE, FAULT_MENU) }),
};
