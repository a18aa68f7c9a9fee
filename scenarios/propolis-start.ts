// propolis-start: a VM whose disk is a Crucible volume, started, stopped and restarted by its
// user while downstairs die for good (the operator expunges their disks and Nexus replaces their
// regions from the spares), Propolis and Nexus crash, and links fail. The race it was built for:
// propolis#841 and omicron#7398, a VM that starts against a dead downstairs and the replacement
// VCR that should rescue it (docs/protocols.md, scenario `propolis-start`).

import { defineScenario, type Scenario } from '../api/scenario.ts';
import { buildPropolisWorld, propolisFaultMenu } from './propolis-world.ts';
import { PROPOLIS_START_PROBES } from './required-probes.ts';

const SHAPE = { roguePerMille: 250 };

export const propolisStart: Scenario = defineScenario({
  name: 'propolis-start',
  summary: 'CockroachDB, Nexus, a sled-agent with 2 Propolis, a VM whose disk is on 3 downstairs (+2 spares); downstairs die for good and are replaced while the user starts and stops it',
  invariants: ['P-I1', 'P-I2', 'P-I3', 'P-I4', 'P-I5', 'P-I7', 'P-I8', 'C-I1', 'C-I2', 'C-I3', 'C-I4', 'C-I5', 'C-I7', 'C-I8', 'C-I9', 'O-I1', 'O-I2', 'O-I3', 'O-I4', 'O-I5', 'O-I6', 'O-I7', 'P-L1', 'P-L2', 'P-L3', 'R-L1', 'C-L2', 'O-L1', 'O-L2', 'O-L3', 'O-L4', 'O-L5', 'PANIC'],
  faultMenu: propolisFaultMenu(),
  requiredProbes: PROPOLIS_START_PROBES,
  // One kill at most: two dead downstairs of one region set deadlock region replacement (a test shows it).
  config: { nemesis: { killsMax: 1 } },
  setup: (sim, { bugs, faultMenu }) => buildPropolisWorld(sim, bugs, SHAPE, faultMenu),
});
