// The world both instance scenarios run in: CockroachDB, two Nexus instances, simulated
// sled-agents, and a user; the nemesis; the instance oracle. A scenario says how many sleds,
// which instances, what the user does and what can go wrong.

import { cockroachDb } from '../model/crdb/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import { nexus } from '../model/nexus/node.ts';
import type { Bugs } from '../ports/index.ts';
import { simSledAgent, type SledAgentProcess } from '../model/sled-agent/node.ts';
import { user, type UserInstance, type UserOp, type UserProcess } from '../model/user/node.ts';
import { instanceLivenessGoal } from '../oracle/instance-liveness.ts';
import { InstanceSafety } from '../oracle/instance-safety.ts';
import type { InstanceWorld } from '../oracle/instance-world.ts';
import { startNemesis, type FaultOption } from '../sim/nemesis.ts';
import type { RunConfigInput } from '../sim/run-config.ts';
import type { Oracle } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';
import { outcomesGoal, type OutcomeWorld } from '../oracle/instance-outcomes.ts';
import { sagaErrorFault } from './saga-errors.ts';

export const DB = 'crdb';
export const NEXUSES = ['nexus-1', 'nexus-2'] as const;
export const USER = 'user';

export interface InstanceWorldShape {
  readonly sleds: readonly string[];
  readonly instances: readonly UserInstance[];
  readonly ops: readonly UserOp[];
  readonly startFirst: boolean;
  readonly deletePerMille: number;
  readonly migrationFailPerMille: number;
}

/** Both instance scenarios: 15 s of workload, a minute to settle; the nemesis wakes every 2 s at most. */
export const INSTANCE_RUN_CONFIG: RunConfigInput = { nemesis: { gapMsMax: 2_000 } };

/** Faults for any set of sleds: partitions from Nexus, isolation and crashes; Nexus crashes; link trouble. */
export function instanceFaultMenu(sleds: readonly string[]): FaultOption[] {
  return [
    ...sleds.flatMap((sled): FaultOption[] => [
      { kind: 'partition', a: NEXUSES, b: [sled] },
      { kind: 'partition', a: NEXUSES, b: [sled], oneWay: true },
      { kind: 'partition', a: [sled], b: NEXUSES, oneWay: true },
      { kind: 'isolate', node: sled },
      { kind: 'crash', node: sled },
    ]),
    ...NEXUSES.map((id): FaultOption => ({ kind: 'crash', node: id })),
    { kind: 'link', from: '*', to: '*', lossPerMille: 200 },
    // Nexus reaches CockroachDB over TCP: its messages may be lost or late, never duplicated.
    { kind: 'link', from: '*', to: '*', exclude: [DB], dupPerMille: 100 },
    { kind: 'link', from: '*', to: '*', extraDelayMsMax: 400 },
    sagaErrorFault(NEXUSES),
  ];
}

export function buildInstanceWorld(sim: Simulator, bugs: Bugs, shape: InstanceWorldShape, menu: readonly FaultOption[]): Oracle {
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
          sleds: shape.sleds,
          dbTimeoutMs: 200,
          sledTimeoutMs: 500,
          periodsMs: { instance_watcher: 1_000, instance_updater: 2_000, abandoned_vmm_reaper: 3_000, instance_reincarnation: 2_000 },
          reincarnationCooldownMs: 5_000,
        },
        bugs,
      ),
    );
  }
  for (const id of shape.sleds) {
    sim.addNode(
      simSledAgent(
        { id, nexus: NEXUSES, nexusTimeoutMs: 500, progressMsMin: 20, progressMsMax: 200, publishAttempts: 100, migrationMsMax: 1_500, migrationFailPerMille: shape.migrationFailPerMille },
        bugs,
      ),
    );
  }
  sim.addNode(
    user({
      id: USER,
      nexus: NEXUSES,
      instances: shape.instances,
      sleds: shape.sleds,
      ops: shape.ops,
      startFirst: shape.startFirst,
      opsMax: 4,
      thinkMsMax: 3_000,
      timeoutMs: 1_000,
      attemptsMax: 100,
      deletePerMille: shape.deletePerMille,
    }),
  );
  startNemesis(sim, menu);

  const db = sim.node(DB);
  const userHost = sim.node(USER);
  const world: InstanceWorld = {
    sledIds: shape.sleds,
    tables: () => db.durable as Tables,
    user: () => userHost.process as UserProcess | null,
    faultLog: () => sim.faultLog,
  };
  const safety = new InstanceSafety(world);
  sim.observe(safety);
  const instanceIds = shape.instances.map((i) => i.id);
  const outcomes: OutcomeWorld = { sledIds: shape.sleds, tables: world.tables, sledVmms: (id) => (sim.node(id).process as SledAgentProcess | null)?.vmms ?? null };
  return {
    afterStep: (step) => safety.afterStep(step),
    unmetGoal: () => instanceLivenessGoal(world, instanceIds) ?? outcomesGoal(outcomes),
  };
}
