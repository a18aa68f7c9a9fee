// instance-lifecycle: CockroachDB, two Nexus instances, two simulated sled-agents, three instances
// and a user who starts, stops, restarts and deletes them through either Nexus. Sagas and
// background tasks run on both Nexus instances and contend for the updater lock. Faults: message
// loss, duplication and delay on every link, partitions between either Nexus and either sled-agent
// (both ways, one way, or the sled isolated), sled-agent crashes and Nexus crashes (each restarts,
// Nexus recovering its sagas). The race it was built for: omicron#7282 (a stopped instance that
// ends Failed because the watcher polled a VMM the sled-agent had already forgotten).

import { cockroachDb } from '../model/crdb/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import { nexus } from '../model/nexus/node.ts';
import type { Bugs } from '../model/ports.ts';
import { simSledAgent } from '../model/sled-agent/node.ts';
import { user, type UserInstance, type UserProcess } from '../model/user/node.ts';
import { instanceLivenessGoal } from '../oracle/instance-liveness.ts';
import { InstanceSafety } from '../oracle/instance-safety.ts';
import type { InstanceWorld } from '../oracle/instance-world.ts';
import { startNemesis, type FaultOption, type NemesisConfig } from '../sim/nemesis.ts';
import type { RunLimits, RunSpec } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';
import type { Scenario } from './scenario.ts';

const DB = 'crdb';
const NEXUSES = ['nexus-1', 'nexus-2'] as const;
const SLEDS = ['sled-1', 'sled-2'] as const;
const USER = 'user';
const INSTANCES: readonly UserInstance[] = [
  { id: 'inst-1', autoRestartPolicy: 'BestEffort' },
  { id: 'inst-2', autoRestartPolicy: null },
  { id: 'inst-3', autoRestartPolicy: 'Never' },
];
const INSTANCE_IDS = INSTANCES.map((i) => i.id);

const LIMITS: RunLimits = { workloadMs: 15_000, livenessMs: 60_000, maxSteps: 200_000 };

const FAULT_MENU: readonly FaultOption[] = [
  ...SLEDS.flatMap((sled): FaultOption[] => [
    { kind: 'partition', a: NEXUSES, b: [sled] },
    { kind: 'partition', a: NEXUSES, b: [sled], oneWay: true },
    { kind: 'partition', a: [sled], b: NEXUSES, oneWay: true },
    { kind: 'isolate', node: sled },
    { kind: 'crash', node: sled },
  ]),
  ...NEXUSES.map((nexus): FaultOption => ({ kind: 'crash', node: nexus })),
  { kind: 'link', from: '*', to: '*', lossPerMille: 200 },
  // Nexus reaches CockroachDB over TCP: its messages may be lost or late, never duplicated.
  { kind: 'link', from: '*', to: '*', exclude: [DB], dupPerMille: 100 },
  { kind: 'link', from: '*', to: '*', extraDelayMsMax: 400 },
];

const NEMESIS: NemesisConfig = {
  menu: FAULT_MENU,
  gapMsMax: 2_000,
  injectPerMille: 300,
  episodeMsMin: 100,
  episodeMsMax: 3_000,
  maxActive: 2,
};

function setup(sim: Simulator, bugs: Bugs): ReturnType<RunSpec['setup']> {
  sim.addNode(cockroachDb(DB));
  for (const id of NEXUSES) {
    // One connection each way: transactions arrive in the order they were sent.
    sim.network.configure(id, DB, { fifo: true });
    sim.network.configure(DB, id, { fifo: true });
    sim.addNode(
      nexus(
        {
          id,
          db: DB,
          sleds: SLEDS,
          dbTimeoutMs: 200,
          sledTimeoutMs: 500,
          periodsMs: { instance_watcher: 1_000, instance_updater: 2_000, abandoned_vmm_reaper: 3_000, instance_reincarnation: 2_000 },
          reincarnationCooldownMs: 5_000,
        },
        bugs,
      ),
    );
  }
  for (const id of SLEDS) {
    sim.addNode(simSledAgent({ id, nexus: NEXUSES, nexusTimeoutMs: 500, progressMsMin: 20, progressMsMax: 200, publishAttempts: 100 }, bugs));
  }
  sim.addNode(user({ id: USER, nexus: NEXUSES, instances: INSTANCES, opsMax: 4, thinkMsMax: 3_000, timeoutMs: 1_000, attemptsMax: 100, deletePerMille: 250 }));
  startNemesis(sim, NEMESIS, LIMITS.workloadMs);

  const db = sim.node(DB);
  const userHost = sim.node(USER);
  const world: InstanceWorld = {
    sledIds: SLEDS,
    tables: () => db.durable as Tables,
    user: () => userHost.process as UserProcess | null,
    faultLog: () => sim.faultLog,
  };
  const safety = new InstanceSafety(world);
  sim.observe(safety);
  return {
    afterStep: (step) => safety.afterStep(step),
    unmetGoal: () => instanceLivenessGoal(world, INSTANCE_IDS),
  };
}

export const instanceLifecycle: Scenario = {
  name: 'instance-lifecycle',
  summary: 'CockroachDB, 2 Nexus, 2 sled-agents, 3 instances; a user starts, stops, restarts and deletes them under partitions, loss and crashes',
  limits: LIMITS,
  invariants: ['O-I1', 'O-I2', 'O-I3', 'O-I4', 'O-I5', 'O-I6', 'O-I7', 'O-L1', 'O-L2', 'O-L3'],
  faultMenu: FAULT_MENU,
  spec: (bugs) => ({ limits: LIMITS, setup: (sim) => setup(sim, bugs) }),
};
