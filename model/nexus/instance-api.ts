// Nexus's instance endpoints (nexus/src/app/instance.rs): create, view, start and stop. Each is a
// flow whose return value is the reply to the user.
//
// start: intended state Running; if the instance is Stopped or Failed with no VMM, record a new
//   VMM (Creating) as active and ask a sled-agent to register and run it; if it is already
//   starting or running, nothing to do; if it is stopping, Conflict.
// stop: intended state Stopped; a Failed instance with no VMM becomes NoVmm; an instance with a
//   VMM has the stop forwarded to its sled-agent, whose answer is written through the
//   conditional write; a 404 from the sled-agent marks the VMM Failed (mark_vmm_failed).

import { unreachable } from '../assert.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';
import { call, sleep, type Flow } from '../ports.ts';
import type { SledAgentReply } from '../sled-agent/api.ts';
import { error, ok, type NexusReply } from './api.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { effectiveState } from './effective-state.ts';
import { markVmmFailed, notifyVmmUpdated } from './vmm-updated.ts';

const UNAVAILABLE = error('ServiceUnavailable', 'the database did not answer');
/** Register attempts for a new VMM; with backoff they outlast any fault episode. */
const ENSURE_ATTEMPTS = 60;
const ENSURE_BACKOFF_MS_MAX = 1000;

export function* instanceCreate(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const created = yield* db<'InstanceCreate'>(ctx, { type: 'InstanceCreate', instanceId });
  return created.ok ? ok('Stopped') : UNAVAILABLE;
}

export function* instanceView(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
  if (!fetched.ok) return UNAVAILABLE;
  if (fetched.reply === null) return error('NotFound', `no instance ${instanceId}`);
  return ok(effectiveState(fetched.reply));
}

export function* instanceStart(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const snapshot = yield* setIntentAndFetch(ctx, instanceId, 'Running');
  if (typeof snapshot === 'string') return snapshot === 'unavailable' ? UNAVAILABLE : error('NotFound', `no instance ${instanceId}`);
  const state = effectiveState(snapshot);
  switch (state) {
    case 'Starting':
    case 'Running':
    case 'Rebooting':
    case 'Migrating':
      return ok(state); // AlreadyStarted
    case 'Stopped':
    case 'Failed':
      if (snapshot.activeVmm !== null) return error('InvalidRequest', `instance is ${state} but still has an active VMM`);
      return yield* startVmm(ctx, snapshot);
    case 'Stopping':
      return error('Conflict', 'instance must finish stopping before it can be started');
    case 'Creating':
    case 'Destroyed':
      return error('Conflict', `instance is in state ${state} but it must be stopped to be started`);
    default:
      return unreachable(state, 'instance state');
  }
}

export function* instanceStop(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const snapshot = yield* setIntentAndFetch(ctx, instanceId, 'Stopped');
  if (typeof snapshot === 'string') return snapshot === 'unavailable' ? UNAVAILABLE : error('NotFound', `no instance ${instanceId}`);
  const state = effectiveState(snapshot);
  switch (state) {
    case 'Stopped':
      return ok('Stopped'); // AlreadyDone
    case 'Failed': {
      if (snapshot.activeVmm !== null) return error('InvalidRequest', 'instance is Failed but still has an active VMM');
      const cleared = yield* db<'InstanceClearFailed'>(ctx, {
        type: 'InstanceClearFailed',
        instanceId,
        expectedGeneration: snapshot.instance.stateGeneration,
      });
      if (!cleared.ok) return UNAVAILABLE;
      return cleared.reply.updated ? ok('Stopped') : error('Conflict', 'instance changed while stopping it');
    }
    case 'Creating':
    case 'Destroyed':
      return error('InvalidRequest', `instance state cannot be changed from ${state}`);
    case 'Starting':
    case 'Running':
    case 'Stopping':
    case 'Rebooting':
    case 'Migrating':
      return yield* stopOnSled(ctx, snapshot);
    default:
      return unreachable(state, 'instance state');
  }
}

function* setIntentAndFetch(ctx: NexusContext, instanceId: string, intended: 'Running' | 'Stopped'): Flow<InstanceSnapshot | 'unavailable' | 'not-found'> {
  const set = yield* db<'InstanceSetIntendedState'>(ctx, { type: 'InstanceSetIntendedState', instanceId, intended });
  if (!set.ok) return 'unavailable';
  if (!set.reply.found) return 'not-found';
  const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
  if (!fetched.ok) return 'unavailable';
  return fetched.reply ?? 'not-found';
}

/** The start saga, before sagas: record the VMM, then have a sled-agent register and run it. */
function* startVmm(ctx: NexusContext, snapshot: InstanceSnapshot): Flow<NexusReply> {
  const { env, config } = ctx;
  const instanceId = snapshot.instance.id;
  const sledId = config.sleds[env.choose('nexus.placeSled', config.sleds.length)]!;
  const vmmId = env.mintId('vmm');
  // InstanceStartVmm is idempotent, so an answer lost in the network is simply asked again:
  // giving up here could leave a recorded VMM that no one registers.
  let recorded = false;
  for (let attempt = 0; attempt < ENSURE_ATTEMPTS && !recorded; attempt++) {
    const r = yield* db<'InstanceStartVmm'>(ctx, {
      type: 'InstanceStartVmm',
      instanceId,
      expectedGeneration: snapshot.instance.stateGeneration,
      vmmId,
      sledId,
    });
    if (r.ok && !r.reply.started) return error('Conflict', 'instance changed while starting it');
    if (r.ok) recorded = true;
    else yield* sleep(backoffMs(attempt));
  }
  if (!recorded) return UNAVAILABLE;
  env.log(`instance ${instanceId}: VMM ${vmmId} on ${sledId}`);
  for (let attempt = 0; attempt < ENSURE_ATTEMPTS; attempt++) {
    const r = yield* call<SledAgentReply>(sledId, { type: 'VmmRegister', vmmId, instanceId }, config.sledTimeoutMs);
    if (r.ok && r.reply.type === 'VmmState') {
      // Record what the sled-agent registered before answering: until then the database says
      // Creating, and a VMM in Creating is one nobody may conclude has failed.
      for (let write = 0; write < ENSURE_ATTEMPTS; write++) {
        if (yield* notifyVmmUpdated(ctx, vmmId, r.reply.runtime)) return ok('Starting');
        yield* sleep(backoffMs(write));
      }
      return UNAVAILABLE;
    }
    yield* sleep(backoffMs(attempt));
  }
  return error('ServiceUnavailable', `sled-agent ${sledId} did not register VMM ${vmmId}`);
}

function backoffMs(attempt: number): number {
  return Math.min(ENSURE_BACKOFF_MS_MAX, 50 * 2 ** attempt);
}

/** SendToSled: ask the VMM's sled-agent to stop it and record what it says. */
function* stopOnSled(ctx: NexusContext, snapshot: InstanceSnapshot): Flow<NexusReply> {
  const vmm = snapshot.activeVmm!;
  const r = yield* call<SledAgentReply>(vmm.sledId, { type: 'VmmPutState', vmmId: vmm.id, target: 'Stopped' }, ctx.config.sledTimeoutMs);
  if (!r.ok) return error('ServiceUnavailable', `sled-agent ${vmm.sledId} did not answer`);
  if (r.reply.type === 'NoSuchInstance') {
    yield* markVmmFailed(ctx, vmm);
    return error('ServiceUnavailable', `sled-agent ${vmm.sledId} has no VMM ${vmm.id}`);
  }
  const written = yield* notifyVmmUpdated(ctx, vmm.id, r.reply.runtime);
  return written ? ok('Stopping') : UNAVAILABLE;
}
