// region-replacement-drive (nexus/src/app/sagas/region_replacement_drive.rs, omicron
// b848b6df85): one push of a Running request towards done. Running -> Driving under this saga's
// id (undo: back to Running), then:
// - check: the volume is gone: Done. No step yet: ActionRequired. After a Propolis step: no
//   active VMM, ActionRequired; a migration under way, Wait; another VMM, ActionRequired; the same VMM Running
//   or Rebooting, LastStepStillRunning (see below); Starting, Creating
//   or Migrating, the saga fails; any other state, Wait.
// - prepare: only ActionRequired acts. The disk's instance migrating: fail. Its active VMM in a
//   state to receive the VCR: a Propolis action. In any other state: fail (the driver task tries
//   again later). No active VMM: upstream attaches the volume to a Pantry; no Pantry is
//   modelled, and the next start boots with the new VCR and reconciles it (README).
// - execute: the instance migrating now: fail; Propolis reached only for a VMM in an accepted
//   state (propolis_client_for_instance); the volume's stored VCR sent to it; Started and
//   StartedAlready: not done; CompletedAlready: done; VcrMatches: a second call,
//   disk_volume_status, and done if the upstairs holding the new target is healthy (no upstairs
//   holds it: fail); any error: fail.
// - commit: record the step it took; finish: -> ReplacementDone if done, else back to Running.
// - A 400 "The VCRs have no difference" is an earlier send whose answer was lost: upstream fails
//   on it for as long as the VMM runs; the default reads it as VcrMatches (resend-refused keeps
//   upstream's).
// - LastStepStillRunning: upstream does nothing and waits for a repair notice. The default polls
//   the VMM's disk_volume_status instead (healthy: done), since a notice can be dropped (Nexus
//   down while it is tried) or never sent (a Starting VMM (#7398) that answered VcrMatches and
//   then activated with nothing to reconcile). nexus/replacement-never-polls keeps the wait.
// Which VMM states may receive a VCR: Running and Rebooting (and Migrating at execute's gate) in
// omicron today; the bug switch nexus/replacement-waits-for-running keeps that (N-B1,
// omicron#7398, open upstream). The default is the proposed fix, with Starting added in both
// places: #7398 adds it to prepare only, and execute's gate would still refuse it.

import type { VmmState } from '../../common/vmm-state.ts';
import type { InstanceSnapshot } from '../../crdb/queries.ts';
import { VCRS_HAVE_NO_DIFFERENCE } from '../../crucible/vcr.ts';
import type { PropolisReply, VcrReplaceResult } from '../../propolis/api.ts';
import type { SledAgentReply, SledAgentRequest } from '../../sled-agent/api.ts';
import { call, type Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { dbStep } from '../db-client.ts';
import { failed, ok, type NodeResult, type SagaDef, type SagaRun } from '../saga/saga.ts';
import { setSagaIdNode } from './replacement-lock.ts';

export interface ReplacementDriveParams {
  readonly replacementId: string;
}

type DriveCheck = 'ActionRequired' | 'LastStepStillRunning' | 'Wait' | 'Done';

interface PropolisTarget {
  readonly instanceId: string;
  readonly vmmId: string;
  readonly sledId: string;
  readonly diskId: string;
}

/**
 * Noop and Propolis as upstream (the step's time is fixed here, so a commit run again after a
 * crash records the same step); Poll: ask the last step's VMM for the volume's health (the fix).
 */
type DriveAction = { readonly kind: 'Noop'; readonly done: boolean } | ({ readonly kind: 'Propolis'; readonly stepTimeMs: number } & PropolisTarget) | ({ readonly kind: 'Poll' } & PropolisTarget);

interface Executed {
  readonly step: { readonly instanceId: string; readonly vmmId: string; readonly stepTimeMs: number } | null;
  readonly done: boolean;
}

/** Nexus's calls to a sled-agent that forwards to Propolis: its own timeout plus the forwarding. */
const VCR_CALL_TIMEOUT_MS = 6_000;

export const regionReplacementDrive: SagaDef<ReplacementDriveParams> = {
  name: 'region-replacement-drive',
  instanceOf: (p) => p.replacementId,
  nodes: [
    setSagaIdNode('Running', 'Driving'),
    { name: 'check', action: check },
    { name: 'prepare', action: prepare },
    { name: 'execute', action: execute },
    {
      name: 'commit',
      *action(run) {
        const { step } = run.outputs['execute'] as Executed;
        if (step === null) return ok();
        const r = yield* dbStep<'RegionReplacementStepInsert'>(run.nexus, { type: 'RegionReplacementStepInsert', replacementId: run.params.replacementId, ...step });
        return r === undefined ? failed('the database did not answer') : ok();
      },
    },
    {
      name: 'finish_saga',
      *action(run) {
        const { done } = run.outputs['execute'] as Executed;
        const r = yield* dbStep<'RegionReplacementTransition'>(run.nexus, { type: 'RegionReplacementTransition', replacementId: run.params.replacementId, from: 'Driving', to: done ? 'ReplacementDone' : 'Running', sagaId: run.id, mode: 'clear' });
        return r?.ok === true ? ok() : failed('Conflict: the request moved under the saga');
      },
    },
  ],
};

/** Which active VMM states get the VCR: Running and Rebooting, plus Starting unless N-B1 is on. */
function receives(nexus: NexusContext, state: VmmState, gate: 'prepare' | 'client'): boolean {
  if (state === 'Running' || state === 'Rebooting' || (gate === 'client' && state === 'Migrating')) return true;
  return state === 'Starting' && !nexus.bugs.has('nexus/replacement-waits-for-running');
}

function* check(run: SagaRun<ReplacementDriveParams>): Flow<NodeResult> {
  const view = yield* dbStep<'RegionReplacementView'>(run.nexus, { type: 'RegionReplacementView', replacementId: run.params.replacementId });
  if (view === undefined) return failed('the database did not answer');
  if (view === null) return failed('no such request');
  if (view.volumeDeleted) return ok('Done' satisfies DriveCheck);
  const step = view.lastStep;
  if (step === null) return ok('ActionRequired' satisfies DriveCheck);
  const snapshot = yield* fetchInstance(run.nexus, step.instanceId);
  if (snapshot === undefined) return failed('the database did not answer');
  if (snapshot === null) return failed(`instance ${step.instanceId} is gone`);
  const vmm = snapshot.activeVmm;
  if (vmm === null) return ok('ActionRequired' satisfies DriveCheck);
  if (snapshot.instance.migrationId !== null) return ok('Wait' satisfies DriveCheck);
  if (vmm.id !== step.vmmId) return ok('ActionRequired' satisfies DriveCheck);
  if (vmm.state === 'Running' || vmm.state === 'Rebooting') return ok('LastStepStillRunning' satisfies DriveCheck);
  if (vmm.state === 'Starting' || vmm.state === 'Creating' || vmm.state === 'Migrating') return failed(`vmm ${vmm.id} propolis is ${vmm.state}`);
  return ok('Wait' satisfies DriveCheck);
}

function* prepare(run: SagaRun<ReplacementDriveParams>): Flow<NodeResult> {
  const checked = run.outputs['check'] as DriveCheck;
  if (checked === 'LastStepStillRunning' && !run.nexus.bugs.has('nexus/replacement-never-polls')) return yield* preparePoll(run);
  if (checked !== 'ActionRequired') return ok({ kind: 'Noop', done: checked === 'Done' } satisfies DriveAction);
  const view = yield* dbStep<'RegionReplacementView'>(run.nexus, { type: 'RegionReplacementView', replacementId: run.params.replacementId });
  if (view === undefined || view === null) return failed('the database did not answer');
  const instanceId = view.disk?.instanceId ?? null;
  if (view.disk === null || instanceId === null) return ok({ kind: 'Noop', done: false } satisfies DriveAction); // a Pantry's job: not modelled
  const snapshot = yield* fetchInstance(run.nexus, instanceId);
  if (snapshot === undefined || snapshot === null) return failed('the instance could not be read');
  if (snapshot.instance.migrationId !== null) return failed('instance is undergoing migration');
  const vmm = snapshot.activeVmm;
  if (vmm === null) return ok({ kind: 'Noop', done: false } satisfies DriveAction); // no VMM: the next start boots with the new VCR
  if (!receives(run.nexus, vmm.state, 'prepare')) return failed(`vmm ${vmm.id} propolis not in a state to receive request: ${vmm.state}`);
  return ok({ kind: 'Propolis', instanceId, vmmId: vmm.id, sledId: vmm.sledId, diskId: view.disk.id, stepTimeMs: run.nexus.env.now() } satisfies DriveAction);
}

/**
 * The last step's VMM still runs: upstream waits for a repair notice and never asks (its TODO:
 * "Nexus needs to poll, as it could miss receiving the Finished notification"). Sending the VCR
 * again cannot poll (Propolis stored it: 400, no difference), so the fix asks disk_volume_status.
 */
function* preparePoll(run: SagaRun<ReplacementDriveParams>): Flow<NodeResult> {
  const view = yield* dbStep<'RegionReplacementView'>(run.nexus, { type: 'RegionReplacementView', replacementId: run.params.replacementId });
  if (view === undefined || view === null || view.lastStep === null) return failed('the database did not answer');
  if (view.disk === null) return ok({ kind: 'Noop', done: false } satisfies DriveAction);
  const snapshot = yield* fetchInstance(run.nexus, view.lastStep.instanceId);
  const vmm = snapshot?.activeVmm ?? null;
  if (vmm === null || vmm.id !== view.lastStep.vmmId) return ok({ kind: 'Noop', done: false } satisfies DriveAction); // moved on: the next check sees it
  return ok({ kind: 'Poll', instanceId: view.lastStep.instanceId, vmmId: vmm.id, sledId: vmm.sledId, diskId: view.disk.id } satisfies DriveAction);
}

function* execute(run: SagaRun<ReplacementDriveParams>): Flow<NodeResult> {
  const action = run.outputs['prepare'] as DriveAction;
  if (action.kind === 'Noop') return ok({ step: null, done: action.done } satisfies Executed);
  if (action.kind === 'Poll') return yield* executePoll(run, action);
  const snapshot = yield* fetchInstance(run.nexus, action.instanceId);
  if (snapshot === undefined || snapshot === null) return failed('the instance could not be read');
  if (snapshot.instance.migrationId !== null) return failed('instance is undergoing migration');
  const vmm = snapshot.activeVmm;
  if (vmm === null || vmm.id !== action.vmmId) return failed(`the instance's active VMM is no longer ${action.vmmId}`);
  if (!receives(run.nexus, vmm.state, 'client')) return failed(`cannot connect to the propolis of an instance in state ${vmm.state}`);
  const view = yield* dbStep<'RegionReplacementView'>(run.nexus, { type: 'RegionReplacementView', replacementId: run.params.replacementId });
  if (view === undefined || view === null) return failed('the database did not answer');
  const vcr = yield* dbStep<'VolumeGet'>(run.nexus, { type: 'VolumeGet', volumeId: view.request.volumeId });
  if (vcr === undefined) return failed('the database did not answer');
  if (vcr.vcr === null) return failed('the volume has no VCR');
  const answer = yield* askPropolis(action, { type: 'VmmVcrReplace', vmmId: action.vmmId, backendId: action.diskId, vcr: vcr.vcr });
  const result = replaceResult(run.nexus, answer);
  if (result.error !== null) {
    run.nexus.env.log(`region replacement ${run.params.replacementId}: ${action.vmmId} refused the VCR: ${result.error}`);
    return failed(result.error);
  }
  const step = { instanceId: action.instanceId, vmmId: action.vmmId, stepTimeMs: action.stepTimeMs };
  run.nexus.env.log(`region replacement ${run.params.replacementId}: propolis answered ${result.result}`);
  if (result.result !== 'VcrMatches') return ok({ step, done: result.result === 'CompletedAlready' } satisfies Executed);
  const health = yield* newTargetHealth(action, view.newTarget);
  if (typeof health === 'string') return failed(health);
  return ok({ step, done: health.healthy } satisfies Executed);
}

/**
 * What the replacement call came to. A 400 "no difference" means the VMM already holds this VCR:
 * an earlier send reached it but its answer was lost (Nexus crashed mid-call, a reply dropped).
 * Upstream fails the saga, and every later drive sends the same and fails the same while that VMM
 * runs; the fix reads it as VcrMatches (nexus/replacement-resend-refused keeps upstream's).
 */
function replaceResult(nexus: NexusContext, answer: PropolisReply | string): { readonly result: VcrReplaceResult; readonly error: null } | { readonly error: string } {
  if (answer === `propolis: 400 ${VCRS_HAVE_NO_DIFFERENCE}` && !nexus.bugs.has('nexus/replacement-resend-refused')) return { result: 'VcrMatches', error: null };
  if (typeof answer === 'string') return { error: answer };
  if (answer.type !== 'VcrReplaced') return { error: `propolis: unexpected ${answer.type}` };
  return { result: answer.result, error: null };
}

/** The fix's poll: healthy means the repair the last step started (or the activation) finished. */
function* executePoll(run: SagaRun<ReplacementDriveParams>, action: PropolisTarget): Flow<NodeResult> {
  const view = yield* dbStep<'RegionReplacementView'>(run.nexus, { type: 'RegionReplacementView', replacementId: run.params.replacementId });
  if (view === undefined || view === null) return failed('the database did not answer');
  const health = yield* newTargetHealth(action, view.newTarget);
  if (typeof health === 'string') return failed(health);
  if (health.healthy) run.nexus.env.log(`region replacement ${run.params.replacementId}: the volume is healthy on ${action.vmmId}`);
  return ok({ step: null, done: health.healthy } satisfies Executed);
}

/** A call to the VMM's Propolis through its sled-agent: the answer, or why there is none. */
function* askPropolis(action: PropolisTarget, request: SledAgentRequest): Flow<PropolisReply | string> {
  const r = yield* call<SledAgentReply>(action.sledId, request, VCR_CALL_TIMEOUT_MS);
  if (!r.ok || r.reply.type !== 'PropolisAnswered' || r.reply.reply === null) return 'propolis did not answer';
  const answer = r.reply.reply;
  return answer.type === 'Error' ? `propolis: ${answer.status} ${answer.message}` : answer;
}

/** disk_volume_status, then propolis_client_upstairs_health for the upstairs holding the new target. */
function* newTargetHealth(action: PropolisTarget, newTarget: string | null): Flow<{ readonly healthy: boolean } | string> {
  const answer = yield* askPropolis(action, { type: 'VmmDiskVolumeStatus', vmmId: action.vmmId, backendId: action.diskId });
  if (typeof answer === 'string') return answer;
  if (answer.type !== 'VolumeStatus') return `propolis: unexpected ${answer.type}`;
  if (newTarget === null) return 'the request has no new region';
  const holding = answer.upstairs.find((u) => u.targets.includes(newTarget));
  return holding === undefined ? `did not find ${newTarget} in volume info!` : { healthy: holding.healthy };
}

function* fetchInstance(nexus: NexusContext, instanceId: string): Flow<InstanceSnapshot | null | undefined> {
  return yield* dbStep<'InstanceFetch'>(nexus, { type: 'InstanceFetch', instanceId });
}
