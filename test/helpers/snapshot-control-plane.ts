// A control plane for region snapshot replacement tests, in the manner of omicron's integration
// tests (nexus/tests/integration_tests/crucible_replacements.rs): real tables and transactions,
// real sagas and background task passes, driven by hand (driveFlow), with Crucible agents that
// act at once like omicron's simulated ones (sled-agent/src/sim/storage.rs: a create is Created,
// a delete Destroyed) and a VMM that takes any valid VCR.

import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import type { AgentReply, AgentRequest, AgentState } from '../../model/crucible/agent/api.ts';
import type { NexusReply, NexusRequest } from '../../model/nexus/api.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { rsrFinishPass, rsrGarbageCollectPass, rsrStartPass, rsrStepPass } from '../../model/nexus/region-snapshot-replacement.ts';
import { serveStorage } from '../../model/nexus/storage-api.ts';
import type { CallResult, Env, Flow } from '../../ports/index.ts';
import { run } from './db.ts';
import { driveFlow, type Call } from './drive-flow.ts';
import { NEXUS_CONFIG } from './records.ts';

interface SimAgent {
  readonly regions: Map<string, { state: AgentState; snapshots: Set<string> }>;
  readonly running: Map<string, AgentState>;
}

function simAgentCall(agent: SimAgent, r: AgentRequest): AgentReply {
  const region = 'regionId' in r ? agent.regions.get(r.regionId) : undefined;
  switch (r.type) {
    case 'RegionCreate':
      if (region === undefined) agent.regions.set(r.regionId, { state: 'Created', snapshots: new Set() });
      return { status: 200, state: agent.regions.get(r.regionId)!.state };
    case 'RegionGet':
      return region === undefined ? { status: 404, message: 'not found' } : { status: 200, state: region.state };
    case 'RegionDelete':
      if (region === undefined) return { status: 500, message: 'does not exist' };
      if (region.state === 'Created' && region.snapshots.size > 0) return { status: 400, message: 'must delete snapshots first!' };
      region.state = 'Destroyed';
      return { status: 204 };
    case 'SnapshotCreate':
      region!.snapshots.add(r.snapshotId);
      return { status: 204 };
    case 'SnapshotDelete':
      region?.snapshots.delete(r.snapshotId);
      return { status: 204 };
    case 'SnapshotsGet': {
      const running: Record<string, AgentState> = {};
      for (const [k, s] of agent.running) if (k.startsWith(`${r.regionId}@`)) running[k.slice(r.regionId.length + 1)] = s;
      return { status: 200, snapshots: [...(region?.snapshots ?? [])], running };
    }
    case 'RunningSnapshotCreate':
      agent.running.set(`${r.regionId}@${r.snapshotId}`, 'Created');
      return { status: 200, state: 'Created' };
    case 'RunningSnapshotDelete':
      if (agent.running.has(`${r.regionId}@${r.snapshotId}`)) agent.running.set(`${r.regionId}@${r.snapshotId}`, 'Destroyed');
      return { status: 204 };
    case 'CloneRead':
      return { status: 204 };
  }
}

export const TASKS = { start: rsrStartPass, gc: rsrGarbageCollectPass, step: rsrStepPass, finish: rsrFinishPass } as const;

export class ControlPlane {
  readonly tables: Tables = emptyTables();
  readonly agents = new Map<string, SimAgent>();
  readonly bugs: Set<string>;
  /** The VCR each disk's VMM holds, as the VMM was told (a replace answered Started). */
  readonly vmmVcrs: { diskId: string }[] = [];

  constructor(bugs: readonly string[] = [], agentCount = 5) {
    this.bugs = new Set(bugs);
    for (let i = 1; i <= agentCount; i++) {
      this.tables.physicalDisk.set(`agent-${i}`, { expunged: false });
      this.agents.set(`agent-${i}`, { regions: new Map(), running: new Map() });
    }
  }

  #respond = (call: Call): CallResult<unknown> => {
    if (call.to === 'crdb') return { ok: true, reply: run(this.tables, call.request as never) };
    const agent = this.agents.get(call.to);
    if (agent !== undefined) return { ok: true, reply: simAgentCall(agent, call.request as AgentRequest) };
    this.vmmVcrs.push({ diskId: String(call.request['backendId']) });
    return { ok: true, reply: { type: 'PropolisAnswered', vmmId: call.request['vmmId'], reply: { type: 'VcrReplaced', status: 200, result: 'Started' } } };
  };

  /** With `failAt`, saga error injection fails the failAt-th saga node to run (0-based), once. */
  #drive<R>(flow: (ctx: NexusContext) => Flow<R>, failAt: number | null = null): R {
    const ctx = (env: Env): NexusContext => ({ env, config: { ...NEXUS_CONFIG, crucibleDisks: true }, bugs: this.bugs, kick: () => {}, localSagas: new Set(), sagaErrors: { armed: failAt !== null } });
    let drawn = 0;
    const choose = (label: string, n: number): number => (label === 'nexus.sagaInjectError' && drawn++ === failAt ? n - 1 : 0);
    return driveFlow((env) => flow(ctx(env)), this.#respond, choose).result;
  }

  api(request: NexusRequest, failAt: number | null = null): NexusReply {
    return this.#drive((ctx) => serveStorage(ctx, request as never), failAt);
  }

  activate(task: keyof typeof TASKS, failAt: number | null = null): void {
    this.#drive(TASKS[task], failAt);
  }

  /** Every task, in turn, `rounds` times (the tasks' order each round: start, garbage collect, step, finish). */
  settle(rounds = 8): void {
    for (let i = 0; i < rounds; i++) for (const task of Object.keys(TASKS) as (keyof typeof TASKS)[]) this.activate(task);
  }

  expunge(agent: string): void {
    run(this.tables, { type: 'PhysicalDiskExpunge', downstairs: agent });
  }

  /** The agent holding the first region snapshot of `snapshotId`. */
  datasetOfSnapshot(snapshotId: string): string {
    return [...this.tables.regionSnapshot.values()].find((rs) => rs.snapshotId === snapshotId)!.dataset;
  }
}
