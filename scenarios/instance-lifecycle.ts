// instance-lifecycle: CockroachDB, two Nexus instances, two simulated sled-agents, three instances
// and a user who starts, stops, restarts and deletes them through either Nexus. Sagas and
// background tasks run on both Nexus instances and contend for the updater lock. Faults: message
// loss, duplication and delay on every link, partitions between either Nexus and either sled-agent
// (both ways, one way, or the sled isolated), sled-agent crashes and Nexus crashes (each restarts,
// Nexus recovering its sagas). The race it was built for: omicron#7282 (a stopped instance that
// ends Failed because the watcher polled a VMM the sled-agent had already forgotten).

import { defineScenario, type Scenario } from '../api/scenario.ts';
import { buildInstanceWorld, INSTANCE_RUN_CONFIG, instanceFaultMenu, type InstanceWorldShape } from './instance-world.ts';
import { INSTANCE_LIFECYCLE_PROBES } from './required-probes.ts';

const SHAPE: InstanceWorldShape = {
  sleds: ['sled-1', 'sled-2'],
  instances: [
    { id: 'inst-1', autoRestartPolicy: 'BestEffort' },
    { id: 'inst-2', autoRestartPolicy: null },
    { id: 'inst-3', autoRestartPolicy: 'Never' },
  ],
  ops: ['start', 'stop', 'restart', 'reboot'],
  startFirst: false,
  deletePerMille: 250,
  migrationFailPerMille: 0,
};

const FAULT_MENU = instanceFaultMenu(SHAPE.sleds);

export const instanceLifecycle: Scenario = defineScenario({
  name: 'instance-lifecycle',
  summary: 'CockroachDB, 2 Nexus, 2 sled-agents, 3 instances; a user starts, stops, restarts and deletes them under partitions, loss and crashes',
  invariants: ['O-I1', 'O-I2', 'O-I3', 'O-I4', 'O-I5', 'O-I6', 'O-I7', 'O-L1', 'O-L2', 'O-L3', 'O-L4', 'O-L5'],
  faultMenu: FAULT_MENU,
  requiredProbes: INSTANCE_LIFECYCLE_PROBES,
  config: INSTANCE_RUN_CONFIG,
  setup: (sim, { bugs, faultMenu }) => buildInstanceWorld(sim, bugs, SHAPE, faultMenu),
});
