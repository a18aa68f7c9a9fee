// The Crucible agent (crucible agent/src/{datafile,main,server}.rs, crucible 6d037cb6), one per
// zpool. Its records are durable (crucible.json) and never removed: a deleted region stays
// Destroyed, so a region id is never reused and a create of a destroyed one reports Destroyed.
// The worker moves Requested to Created (a clone after reading its source, which must be a
// read-only downstairs that answers: else Failed) and Tombstoned to Destroyed, each after a
// while; a crash loses only the work in progress, resumed at boot. Ordering the agent enforces:
// a region with ZFS snapshots cannot be deleted (400), a snapshot whose read-only downstairs is
// not Destroyed cannot be deleted (500).
//
// Fault model: an agent may crash (its records are durable and kept; the work in progress and
// its timers are lost, and boot schedules the unfinished records again) or be killed (the disk
// is gone; the operator expunges it). `createFailPerMille` of region creates fail (Failed), as a
// full dataset or a failed clone does upstream. Its callers (Nexus's sagas, the operator) may be
// partitioned from it, and their requests or its answers lost or late: a caller that crashes or
// times out asks again, so every request is idempotent (a create returns the record as it is, a
// delete of a Tombstoned or Destroyed region is 204 again). A clone's source agent may be down,
// killed or cut off: the read times out after `cloneTimeoutMs` and the region is Failed; a delete
// while the clone is under way wins (Tombstoned), and the clone's late answer is ignored.
// Not modelled: ports (addresses are never reused), the 5 s wait for a snapshot directory, the
// busy worker ordering, Creating (503) for a clone in progress.

import { panic, panicUnless } from '../../assert.ts';
import { between, call, flip, probe, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../../ports/index.ts';
import type { AgentRegion, AgentReply, AgentRequest, AgentState } from './api.ts';

export interface AgentConfig {
  readonly id: NodeId;
  readonly workMsMax: number;
  readonly createFailPerMille: number;
  readonly cloneTimeoutMs: number;
}

export interface AgentDurable {
  readonly regions: Map<string, AgentRegion>;
  /** Read-only downstairs serving a region's snapshot, by `${regionId}@${snapshotId}`. */
  readonly running: Map<string, { state: AgentState }>;
}

type Work = { readonly type: 'Work'; readonly kind: 'region' | 'running'; readonly key: string };

export interface AgentProcess extends Process {
  readonly durable: AgentDurable;
}

export function crucibleAgent(config: AgentConfig): NodeDef<AgentDurable> {
  return {
    id: config.id,
    initDurable: () => ({ regions: new Map(), running: new Map() }),
    boot: (env, durable) => new Agent(env, config, durable),
  };
}

class Agent implements AgentProcess {
  private readonly env: Env;
  private readonly config: AgentConfig;
  readonly durable: AgentDurable;

  constructor(env: Env, config: AgentConfig, durable: AgentDurable) {
    this.env = env;
    this.config = config;
    this.durable = durable;
    this.checkDurable();
    // Work left over from before a crash starts again (apply_smf, then the worker).
    for (const r of durable.regions.values()) if (r.state === 'Requested' || r.state === 'Tombstoned') this.schedule('region', r.id);
    for (const [key, rs] of durable.running) if (rs.state === 'Requested' || rs.state === 'Tombstoned') this.schedule('running', key);
  }

  /** What the records keep through every crash: snapshots only on Created regions, read-only downstairs only of known regions. */
  private checkDurable(): void {
    for (const r of this.durable.regions.values()) if (r.snapshots.size > 0 && r.state !== 'Created') panic(`agent ${this.config.id}: region ${r.id} ${r.state} with snapshots`);
    for (const key of this.durable.running.keys()) if (!this.durable.regions.has(key.slice(0, key.indexOf('@')))) panic(`agent ${this.config.id}: read-only downstairs ${key} of no region`);
  }

  private schedule(kind: Work['kind'], key: string): void {
    if (!(kind === 'region' ? this.durable.regions.has(key) : this.durable.running.has(key))) panic(`agent: work scheduled for no record ${key}`);
    this.env.setTimer(between(this.env, `${this.config.id}.workMs`, 1, this.config.workMsMax), { type: 'Work', kind, key } satisfies Work);
  }

  onTimer(_env: Env, tag: unknown): void {
    const w = tag as Work;
    if (w.kind === 'running') return this.workRunning(w.key);
    const region = this.durable.regions.get(w.key);
    if (region === undefined) panic(`agent ${this.config.id}: work for unknown region ${w.key}`);
    if (region.state === 'Tombstoned') this.setRegionState(region, 'Destroyed');
    else if (region.state === 'Requested' && region.source !== null) this.env.spawn(`clone ${region.id}`, this.clone(region));
    else if (region.state === 'Requested') this.setRegionState(region, flip(this.env, `${this.config.id}.createFails`, this.config.createFailPerMille) ? 'Failed' : 'Created');
  }

  /** The worker's moves only: Requested to Created or Failed, Tombstoned to Destroyed. */
  private setRegionState(region: AgentRegion, state: AgentState): void {
    const from = region.state;
    if (!(from === 'Requested' && (state === 'Created' || state === 'Failed')) && !(from === 'Tombstoned' && state === 'Destroyed')) panic(`agent ${this.config.id}: region ${region.id} ${from} -> ${state}`);
    region.state = state;
    if (state === 'Destroyed') region.snapshots.clear();
    if (region.snapshots.size > 0 && region.state !== 'Created') panic(`agent ${this.config.id}: region ${region.id} ${region.state} with snapshots`);
  }

  /** A clone copies every extent from its source; any failure leaves the region Failed. */
  private *clone(region: AgentRegion): Flow<void> {
    if (!(region.source !== null && region.state === 'Requested')) panic(`agent: clone of region ${region.id}, not a Requested clone`);
    const source = region.source;
    const agent = source.slice(0, source.indexOf(':'));
    const r = yield* call<AgentReply>(agent, { type: 'CloneRead', address: source } satisfies AgentRequest, this.config.cloneTimeoutMs);
    if (region.state !== 'Requested') return; // deleted meanwhile: Tombstoned wins (created() leaves it)
    const cloned = r.ok && r.reply.status === 204;
    probe(this.env, cloned ? 'agent.clone.created' : 'agent.clone.failed');
    this.setRegionState(region, cloned ? 'Created' : 'Failed');
  }

  private workRunning(key: string): void {
    const rs = this.durable.running.get(key);
    if (rs === undefined) panic(`agent ${this.config.id}: work for unknown running snapshot ${key}`);
    // Until it is Destroyed, its snapshot cannot be deleted, nor the region with it.
    const at = key.indexOf('@');
    const region = this.durable.regions.get(key.slice(0, at));
    if (rs.state !== 'Destroyed' && (region?.state !== 'Created' || !region.snapshots.has(key.slice(at + 1)))) panic(`agent ${this.config.id}: read-only downstairs ${key} ${rs.state} of a snapshot gone`);
    if (rs.state === 'Requested') rs.state = 'Created';
    else if (rs.state === 'Tombstoned') rs.state = 'Destroyed';
  }

  onCall(_env: Env, _from: NodeId, request: unknown): AgentReply {
    const r = request as AgentRequest;
    switch (r.type) {
      case 'RegionCreate':
        return this.regionCreate(r.regionId, r.source);
      case 'RegionGet': {
        const region = this.durable.regions.get(r.regionId);
        return region === undefined ? notFound(`region ${r.regionId} not found`) : { status: 200, state: region.state };
      }
      case 'RegionDelete':
        return this.regionDelete(r.regionId);
      case 'SnapshotCreate':
        return this.snapshotCreate(r.regionId, r.snapshotId);
      case 'SnapshotDelete':
        return this.snapshotDelete(r.regionId, r.snapshotId);
      case 'SnapshotsGet':
        return this.snapshotsGet(r.regionId);
      case 'RunningSnapshotCreate':
        return this.runningCreate(r.regionId, r.snapshotId);
      case 'RunningSnapshotDelete':
        return this.runningDelete(r.regionId, r.snapshotId);
      case 'CloneRead':
        return this.cloneRead(r.address);
    }
  }

  /** Idempotent by id: an existing record is returned as it is, in any state. */
  private regionCreate(regionId: string, source: string | null): AgentReply {
    const found = this.durable.regions.get(regionId);
    if (found !== undefined) {
      if (found.source !== source) return { status: 500, message: `region create failure: requested region ${regionId} already exists, with source ${found.source} instead of requested ${source}` };
      return { status: 200, state: found.state };
    }
    this.durable.regions.set(regionId, { id: regionId, state: 'Requested', source, snapshots: new Set() });
    this.schedule('region', regionId);
    if (!(this.durable.regions.get(regionId)?.state === 'Requested')) panic(`agent: region ${regionId} created, not Requested`);
    return { status: 200, state: 'Requested' };
  }

  private regionDelete(regionId: string): AgentReply {
    const region = this.durable.regions.get(regionId);
    if (region === undefined) return { status: 500, message: `region ${regionId} does not exist` };
    if (region.state === 'Created' && region.snapshots.size > 0) {
      probe(this.env, 'agent.region-delete.refused-snapshots');
      return { status: 400, message: 'must delete snapshots first!' };
    }
    if (region.state === 'Requested' || region.state === 'Created' || region.state === 'Failed') {
      region.state = 'Tombstoned';
      this.schedule('region', regionId);
    }
    panicUnless(region.state === 'Tombstoned' || region.state === 'Destroyed', 'a deleted region that is neither Tombstoned nor Destroyed');
    return { status: 204 };
  }

  private snapshotCreate(regionId: string, snapshotId: string): AgentReply {
    const region = this.durable.regions.get(regionId);
    if (region === undefined || region.state !== 'Created') return notFound(`region ${regionId} not found`);
    region.snapshots.add(snapshotId);
    panicUnless(region.state === 'Created' && region.snapshots.has(snapshotId), 'agent: a snapshot of a region not Created');
    return { status: 204 };
  }

  private snapshotDelete(regionId: string, snapshotId: string): AgentReply {
    const region = this.durable.regions.get(regionId);
    if (region === undefined) return notFound(`region ${regionId} not found`);
    const rs = this.durable.running.get(`${regionId}@${snapshotId}`);
    if (rs !== undefined && rs.state !== 'Destroyed') return { status: 500, message: `read-only downstairs running for region ${regionId} snapshot ${snapshotId}` };
    region.snapshots.delete(snapshotId);
    if (!(!region.snapshots.has(snapshotId) && (rs === undefined || rs.state === 'Destroyed'))) panic(`agent: snapshot ${snapshotId} of ${regionId} deleted while its downstairs runs`);
    return { status: 204 };
  }

  private snapshotsGet(regionId: string): AgentReply {
    const region = this.durable.regions.get(regionId);
    if (region === undefined) return notFound(`region ${regionId} not found`);
    const running: Record<string, AgentState> = {};
    for (const [key, rs] of this.durable.running) if (key.startsWith(`${regionId}@`)) running[key.slice(regionId.length + 1)] = rs.state;
    return { status: 200, snapshots: region.state === 'Created' ? [...region.snapshots] : [], running };
  }

  /** An existing entry is returned in any state, never restarted. */
  private runningCreate(regionId: string, snapshotId: string): AgentReply {
    const region = this.durable.regions.get(regionId);
    if (region === undefined) return notFound(`region ${regionId} not found`);
    const key = `${regionId}@${snapshotId}`;
    const found = this.durable.running.get(key);
    if (found !== undefined) return { status: 200, state: found.state };
    if (region.state !== 'Created' || !region.snapshots.has(snapshotId)) return notFound(`snapshot "${snapshotId}" not found`);
    panicUnless(region.state === 'Created', 'a read-only downstairs for the snapshot of a region not Created');
    this.durable.running.set(key, { state: 'Requested' });
    this.schedule('running', key);
    return { status: 200, state: 'Requested' };
  }

  private runningDelete(regionId: string, snapshotId: string): AgentReply {
    if (!this.durable.regions.has(regionId)) return notFound(`region ${regionId} not found`);
    const rs = this.durable.running.get(`${regionId}@${snapshotId}`);
    if (rs === undefined) return { status: 204 };
    if (rs.state === 'Failed') return { status: 500, message: `region ${regionId} running snapshot ${snapshotId} failed to provision and cannot be destroyed` };
    if (rs.state === 'Requested' || rs.state === 'Created') {
      rs.state = 'Tombstoned';
      this.schedule('running', `${regionId}@${snapshotId}`);
    }
    if (!(rs.state === 'Tombstoned' || rs.state === 'Destroyed')) panic(`agent: a deleted read-only downstairs of ${regionId} is ${rs.state}`);
    return { status: 204 };
  }

  /** 204 if the address is a read-only downstairs here that serves (a running snapshot, or a read-only region). */
  private cloneRead(address: string): AgentReply {
    const key = address.slice(address.indexOf(':') + 1);
    const rs = this.durable.running.get(key);
    if (rs !== undefined) return rs.state === 'Created' ? { status: 204 } : notFound(`no downstairs at ${address}`);
    const region = this.durable.regions.get(key);
    return region !== undefined && region.state === 'Created' && region.source !== null ? { status: 204 } : notFound(`no read-only downstairs at ${address}`);
  }
}

function notFound(message: string): AgentReply {
  return { status: 404, message };
}
