// region-snapshot-replacement: a user makes disks, snapshots of them and disks from the
// snapshots, moves disks on and off a running instance, and deletes any of them at any time,
// while a physical disk fails and is expunged, agents and Nexus crash and links fail. Nexus moves
// every volume that names a region snapshot on the lost disk to a new read-only region: the races
// of omicron#7046, #6353 and #7790 (docs/protocols.md, scenario `region-snapshot-replacement`).

import { defineScenario, type Scenario } from '../api/scenario.ts';
import { buildSnapshotReplacementWorld, snapshotReplacementFaultMenu } from './snapshot-replacement-world.ts';
import { REGION_SNAPSHOT_REPLACEMENT_PROBES } from './required-probes.ts';

const SHAPE = { opsMax: 12, cleanupPerMille: 500 };

export const regionSnapshotReplacement: Scenario = defineScenario({
  name: 'region-snapshot-replacement',
  summary: 'CockroachDB, Nexus, a sled-agent, 5 Crucible agents; a user makes and deletes disks and snapshots at any time while a physical disk fails and its region snapshots are replaced',
  invariants: ['V-I1', 'V-I2', 'V-I3', 'V-I4', 'V-I5', 'V-I6', 'V-I7', 'V-L1', 'V-L2', 'V-L3', 'O-L4', 'O-L5', 'PANIC'],
  faultMenu: snapshotReplacementFaultMenu(),
  requiredProbes: REGION_SNAPSHOT_REPLACEMENT_PROBES,
  // 20 s of workload, 90 s to settle: replacements take several saga passes; one kill at most.
  config: { workloadMs: 20_000, livenessMs: 90_000, nemesis: { killsMax: 1 } },
  setup: (sim, { bugs, faultMenu }) => buildSnapshotReplacementWorld(sim, bugs, SHAPE, faultMenu),
});
