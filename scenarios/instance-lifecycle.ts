// instance-lifecycle: CockroachDB, one Nexus, two simulated sled-agents, three instances and a
// user who starts, stops and restarts them. Faults: message loss, duplication and delay on every
// link, partitions between Nexus and either sled-agent (both ways, one way, or the sled isolated),
// and sled-agent crashes with restart. The race it exists for: omicron#7282 (a stopped instance
// that ends Failed because the watcher polled a VMM the sled-agent had already forgotten).

import { cockroachDb } from '../model/crdb/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import { nexus } from '../model/nexus/node.ts';
import type { Bugs } from '../model/ports.ts';
import { simSledAgent } from '../model/sled-agent/node.ts';
import { user, type UserProcess } from '../model/user/node.ts';
import { instanceLivenessGoal } from '../oracle/instance-liveness.ts';
import { InstanceSafety } from '../oracle/instance-safety.ts';
import type { InstanceWorld } from '../oracle/instance-world.ts';
import { startNemesis, type FaultOption, type NemesisConfig } from '../sim/nemesis.ts';
import type { RunLimits, RunSpec } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';
import type { Scenario } from './scenario.ts';

const DB = 'crdb';
const NEXUS = 'nexus';
const SLEDS = ['sled-1', 'sled-2'] as const;
const USER = 'user';
const INSTANCES = ['inst-1', 'inst-2', 'inst-3'];

const LIMITS: RunLimits = { workloadMs: 15_000, livenessMs: 60_000, maxSteps: 200_000 };

const FAULT_MENU: readonly FaultOption[] = [
  ...SLEDS.flatMap((sled): FaultOption[] => [
    { kind: 'partition', a: [NEXUS], b: [sled] },
    { kind: 'partition', a: [NEXUS], b: [sled], oneWay: true },
    { kind: 'partition', a: [sled], b: [NEXUS], oneWay: true },
    { kind: 'isolate', node: sled },
    { kind: 'crash', node: sled },
  ]),
  { kind: 'link', from: '*', to: '*', lossPerMille: 200 },
  { kind: 'link', from: '*', to: '*', dupPerMille: 100 },
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
  sim.addNode(
    nexus({ id: NEXUS, db: DB, sleds: SLEDS, dbTimeoutMs: 200, sledTimeoutMs: 500, watcherPeriodMs: 1_000, updaterPeriodMs: 2_000 }, bugs),
  );
  for (const id of SLEDS) {
    sim.addNode(simSledAgent({ id, nexus: NEXUS, nexusTimeoutMs: 500, progressMsMin: 20, progressMsMax: 200, publishAttempts: 100 }, bugs));
  }
  sim.addNode(user({ id: USER, nexus: NEXUS, instances: INSTANCES, opsMax: 4, thinkMsMax: 3_000, timeoutMs: 1_000, attemptsMax: 100 }));
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
    unmetGoal: () => instanceLivenessGoal(world, INSTANCES),
  };
}

export const instanceLifecycle: Scenario = {
  name: 'instance-lifecycle',
  summary: 'CockroachDB, Nexus, 2 sled-agents, 3 instances; a user starts, stops and restarts them under partitions, loss and sled-agent crashes',
  limits: LIMITS,
  invariants: ['O-I1', 'O-I5', 'O-I6', 'O-L1', 'O-L3'],
  faultMenu: FAULT_MENU,
  spec: (bugs) => ({ limits: LIMITS, setup: (sim) => setup(sim, bugs) }),
};
