// The world of the region-snapshot-replacement scenario: CockroachDB, one Nexus (instance
// lifecycle, disks and snapshots, region snapshot replacement), one simulated sled-agent for the
// user's instance, five Crucible agents (one per zpool, each its own physical disk), the storage
// user and the operator. The faults: an agent killed for good (its disk fails: the operator is
// paged and expunges it; at most one per run), agents and Nexus crash, Nexus is cut from an agent
// or from the sled, links out of Nexus lose messages, and links are slowed. CockroachDB and the
// user never fail.

import { crucibleAgent, type AgentDurable } from '../model/crucible/agent/node.ts';
import { cockroachDb } from '../model/crdb/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import { nexus } from '../model/nexus/node.ts';
import { operator, type DiskFailed } from '../model/operator/node.ts';
import type { Bugs } from '../ports/index.ts';
import { simSledAgent, type SledAgentProcess } from '../model/sled-agent/node.ts';
import { outcomesGoal, type OutcomeWorld } from '../oracle/instance-outcomes.ts';
import { storageUser, type StorageUserProcess } from '../model/user/storage.ts';
import { SnapshotReplacementSafety } from '../oracle/snapshot-replacement-safety.ts';
import { snapshotReplacementGoal, type SnapshotReplacementWorld } from '../oracle/snapshot-replacement-liveness.ts';
import { startNemesis, type FaultOption } from '../sim/nemesis.ts';
import type { Oracle } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';
import { sagaErrorFault } from './saga-errors.ts';

export const DB = 'crdb';
export const NEXUS = 'nexus-1';
export const SLED = 'sled-1';
export const AGENTS = ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5'] as const;
export const USER = 'user';
export const OPERATOR = 'operator';
export const INSTANCE = 'inst-1';

export interface SnapshotReplacementShape {
  readonly opsMax: number;
  readonly cleanupPerMille: number;
}

function populate(tables: Tables): void {
  for (const agent of AGENTS) tables.physicalDisk.set(agent, { expunged: false });
}

export function snapshotReplacementFaultMenu(): FaultOption[] {
  return [
    ...AGENTS.map((a): FaultOption => ({ kind: 'kill', node: a, alert: { to: OPERATOR, message: { type: 'DiskFailed', downstairs: a } satisfies DiskFailed, delayMsMax: 2_000 } })),
    ...AGENTS.map((a): FaultOption => ({ kind: 'crash', node: a })),
    { kind: 'crash', node: NEXUS },
    ...AGENTS.map((a): FaultOption => ({ kind: 'partition', a: [NEXUS], b: [a] })),
    { kind: 'partition', a: [NEXUS], b: [SLED] },
    { kind: 'link', from: NEXUS, to: '*', exclude: [DB], lossPerMille: 200 },
    { kind: 'link', from: '*', to: '*', exclude: [DB], extraDelayMsMax: 300 },
    sagaErrorFault([NEXUS]),
  ];
}

export function buildSnapshotReplacementWorld(sim: Simulator, bugs: Bugs, shape: SnapshotReplacementShape, menu: readonly FaultOption[]): Oracle {
  sim.addNode(cockroachDb(DB, populate));
  sim.network.configure(NEXUS, DB, { fifo: true });
  sim.network.configure(DB, NEXUS, { fifo: true });
  sim.addNode(
    nexus(
      {
        id: NEXUS,
        db: DB,
        sleds: [SLED],
        dbTimeoutMs: 200,
        sledTimeoutMs: 500,
        periodsMs: {
          instance_watcher: 1_000,
          instance_updater: 2_000,
          abandoned_vmm_reaper: 3_000,
          region_snapshot_replacement_start: 1_000,
          region_snapshot_replacement_garbage_collection: 1_000,
          region_snapshot_replacement_step: 1_000,
          region_snapshot_replacement_finish: 1_000,
        },
        reincarnationCooldownMs: 5_000,
        crucibleDisks: true,
      },
      bugs,
    ),
  );
  sim.addNode(simSledAgent({ id: SLED, nexus: [NEXUS], nexusTimeoutMs: 500, progressMsMin: 20, progressMsMax: 200, publishAttempts: 100, migrationMsMax: 1_500, migrationFailPerMille: 0 }, bugs));
  for (const a of AGENTS) sim.addNode(crucibleAgent({ id: a, workMsMax: 300, createFailPerMille: 20, cloneTimeoutMs: 500 }));
  sim.addNode(storageUser({ id: USER, nexus: NEXUS, instanceId: INSTANCE, opsMax: shape.opsMax, thinkMsMax: 1_500, timeoutMs: 20_000, attemptsMax: 20, cleanupPerMille: shape.cleanupPerMille }));
  sim.addNode(operator({ id: OPERATOR, nexus: [NEXUS], timeoutMs: 1_000, attemptsMax: 100 }));
  startNemesis(sim, menu);
  const db = sim.node(DB);
  const world: SnapshotReplacementWorld = {
    tables: () => db.durable as Tables,
    user: () => sim.node(USER).process as StorageUserProcess | null,
    instanceId: INSTANCE,
    agentIds: AGENTS,
    agent: (id) => sim.node(id).durable as AgentDurable,
    dead: (id) => sim.node(id).dead,
  };
  const safety = new SnapshotReplacementSafety(world.tables);
  const outcomes: OutcomeWorld = { sledIds: [SLED], tables: world.tables, sledVmms: (id) => (sim.node(id).process as SledAgentProcess | null)?.vmms ?? null };
  return { afterStep: () => safety.afterStep(), unmetGoal: () => snapshotReplacementGoal(world) ?? outcomesGoal(outcomes) };
}
