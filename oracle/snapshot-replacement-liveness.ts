// Liveness of region snapshot replacement, checked once every fault has healed and the user's
// script has ended (an agent killed for good stays dead: its disk is expunged).
// V-L1  Every replacement request is Complete, and no saga is left unfinished; the instance the
//       user left running is Running (the VMM a step must notify is there to take it).
// V-L2  No live volume names a read-only target on an expunged disk: every user of a lost
//       snapshot copy was moved to a new one (the redundancy of the base image under their disk).
// V-L3  Once the user has deleted everything: no region, region snapshot or usage row is left, no
//       live volume, and every agent that is up has destroyed every region and read-only
//       downstairs it made (space nobody can reclaim otherwise). Soft-deleted volume rows may
//       stay: upstream hard-deletes a volume only when it deletes the regions that name it
//       (a snapshot volume whose replacement region went later keeps its row; docs/protocols.md).

import { readOnlyTargets } from '../model/crucible/vcr-targets.ts';
import type { AgentDurable } from '../model/crucible/agent/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import type { StorageUserProcess } from '../model/user/storage.ts';
import type { Finding } from '../sim/runner.ts';

export interface SnapshotReplacementWorld {
  readonly tables: () => Tables;
  readonly user: () => StorageUserProcess | null;
  readonly instanceId: string;
  readonly agentIds: readonly string[];
  readonly agent: (id: string) => AgentDurable;
  readonly dead: (id: string) => boolean;
}

export function snapshotReplacementGoal(world: SnapshotReplacementWorld): Finding | null {
  const user = world.user();
  if (user === null || !user.done()) return { invariant: 'V-L1', message: "the user's script has not ended" };
  const tables = world.tables();
  return requestsComplete(tables) ?? instanceRunning(world, tables, user) ?? noLostTargets(tables) ?? (user.cleanup() ? nothingLeft(world, tables, user) : null);
}

function requestsComplete(tables: Tables): Finding | null {
  for (const r of tables.regionSnapshotReplacement.values()) {
    if (r.state === 'Complete') continue;
    const steps = [...tables.regionSnapshotReplacementStep.values()].filter((s) => s.requestId === r.id).map((s) => `${s.id} ${s.state} on ${s.volumeId}`);
    const target = tables.regionSnapshot.get(r.oldRegionSnapshot);
    return { invariant: 'V-L1', message: `request ${r.id} for ${r.oldRegionSnapshot} is stuck ${r.state}${r.operatingSagaId === null ? '' : ` (saga ${r.operatingSagaId})`}; target record ${target === undefined ? 'gone' : 'present'}; steps: ${steps.join('; ') || 'none'}` };
  }
  for (const saga of tables.saga.values()) if (saga.state === 'Running' || saga.state === 'Unwinding') return { invariant: 'V-L1', message: `saga ${saga.name} ${saga.id} is left ${saga.state}` };
  return null;
}

function instanceRunning(world: SnapshotReplacementWorld, tables: Tables, user: StorageUserProcess): Finding | null {
  if (!user.wantsRunning()) return null;
  const instance = tables.instance.get(world.instanceId);
  const vmm = instance?.activePropolisId == null ? undefined : tables.vmm.get(instance.activePropolisId);
  return vmm?.state === 'Running' ? null : { invariant: 'V-L1', message: `the user left ${world.instanceId} running, but its VMM is ${vmm?.state ?? 'absent'}` };
}

function noLostTargets(tables: Tables): Finding | null {
  const lost = new Map<string, string>();
  for (const rs of tables.regionSnapshot.values()) if (tables.physicalDisk.get(rs.dataset)?.expunged === true) lost.set(rs.address, rs.key);
  for (const r of tables.region.values()) if (r.readOnly && tables.physicalDisk.get(r.dataset)?.expunged === true) lost.set(r.downstairs, r.id);
  for (const v of tables.volume.values()) {
    if (v.timeDeleted !== null) continue;
    const named = readOnlyTargets(v.vcr).find((t) => lost.has(t));
    if (named !== undefined) return { invariant: 'V-L2', message: `live volume ${v.id} still names ${lost.get(named)} on an expunged disk` };
  }
  return null;
}

function nothingLeft(world: SnapshotReplacementWorld, tables: Tables, user: StorageUserProcess): Finding | null {
  if (!user.cleanedUp()) return { invariant: 'V-L3', message: 'the user could not delete everything it had' };
  const left = [
    ...[...tables.region.values()].map((r) => `region ${r.id}${r.readOnly ? ' (read-only)' : ''} of ${r.volumeId}`),
    ...[...tables.regionSnapshot.values()].map((s) => `region snapshot ${s.key}`),
    ...tables.volumeResourceUsage.map((u) => `usage of ${u.resource} by ${u.volumeId}`),
    ...[...tables.volume.values()].filter((v) => v.timeDeleted === null).map((v) => `live volume ${v.id}`),
  ];
  if (left.length > 0) return { invariant: 'V-L3', message: `everything was deleted, yet ${left.length} left: ${left.slice(0, 4).join('; ')}` };
  for (const id of world.agentIds) {
    if (world.dead(id) || tables.physicalDisk.get(id)?.expunged === true) continue;
    const durable = world.agent(id);
    for (const r of durable.regions.values()) if (r.state !== 'Destroyed') return { invariant: 'V-L3', message: `agent ${id} still has region ${r.id} ${r.state}` };
    for (const [key, rs] of durable.running) if (rs.state !== 'Destroyed') return { invariant: 'V-L3', message: `agent ${id} still runs a read-only downstairs for ${key} (${rs.state})` };
  }
  return null;
}
