// instance-migration: CockroachDB, two Nexus instances, three simulated sled-agents, two instances
// the user starts and then live-migrates between sleds, stopping and starting them now and then,
// so that migrations race stops and each other. Migrations succeed, fail on either side on their
// own (15%), or fail because a sled-agent crashes mid-way; the same partitions, message loss and
// Nexus crashes as instance-lifecycle.

import { defineScenario, type Scenario } from '../api/scenario.ts';
import { buildInstanceWorld, INSTANCE_RUN_CONFIG, instanceFaultMenu, type InstanceWorldShape } from './instance-world.ts';
import { INSTANCE_MIGRATION_PROBES } from './required-probes.ts';

const SHAPE: InstanceWorldShape = {
  sleds: ['sled-1', 'sled-2', 'sled-3'],
  instances: [
    { id: 'inst-1', autoRestartPolicy: 'BestEffort' },
    { id: 'inst-2', autoRestartPolicy: 'Never' },
  ],
  ops: ['migrate', 'migrate', 'migrate', 'stop', 'start'],
  startFirst: true,
  deletePerMille: 0,
  migrationFailPerMille: 150,
};

const FAULT_MENU = instanceFaultMenu(SHAPE.sleds);

export const instanceMigration: Scenario = defineScenario({
  name: 'instance-migration',
  summary: 'CockroachDB, 2 Nexus, 3 sled-agents, 2 instances; live migrations that succeed, fail on either side or race a stop, under partitions, loss and crashes',
  invariants: ['O-I1', 'O-I2', 'O-I3', 'O-I4', 'O-I5', 'O-I6', 'O-I7', 'O-L1', 'O-L2', 'O-L3', 'O-L4', 'O-L5'],
  faultMenu: FAULT_MENU,
  requiredProbes: INSTANCE_MIGRATION_PROBES,
  config: INSTANCE_RUN_CONFIG,
  setup: (sim, { bugs, faultMenu }) => buildInstanceWorld(sim, bugs, SHAPE, faultMenu),
});
