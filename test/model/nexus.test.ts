import test from 'ava';
import type { NexusContext } from '../../model/nexus/context.ts';
import { effectiveState } from '../../model/nexus/effective-state.ts';
import { instanceRebootApi, instanceStopApi } from '../../model/nexus/instance-api.ts';
import { run, withVmm } from '../helpers/db.ts';
import { instanceWatcherPass } from '../../model/nexus/instance-watcher.ts';
import type { CallResult, Env } from '../../ports/index.ts';
import type { VmmRow } from '../../model/crdb/tables.ts';
import { instanceRow, NEXUS_CONFIG } from '../helpers/records.ts';
import { driveFlow, type Call } from '../helpers/drive-flow.ts';

const ctx = (env: Env, bugs: string[] = []): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(bugs), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: false } });
const vmm = (state: VmmRow['state'], gen: number): VmmRow => ({ id: 'vmm-1', instanceId: 'inst-1', sledId: 'sled-1', state, gen, timeCreated: 0, timeDeleted: null });
const instance = instanceRow('inst-1', 'vmm-1');
const reply = (r: unknown): CallResult<unknown> => ({ ok: true, reply: r });

test("the watcher's 404 NO_SUCH_INSTANCE becomes Failed at the listed generation + 1, then an update saga", (t) => {
  const { calls } = driveFlow(
    (env) => instanceWatcherPass(ctx(env)),
    (call: Call) => {
      switch (call.request.type) {
        case 'InstanceAndVmmListBySledAgent':
          return reply({ vmms: [vmm('Running', 3)] });
        case 'VmmGetState':
          return reply({ type: 'NoSuchInstance', vmmId: 'vmm-1' });
        case 'VmmMarkFailed':
          return reply({ found: true, updated: true, instanceId: 'inst-1' });
        case 'SagaCreate':
          return reply({ created: true });
        case 'UpdaterLock':
          return reply({ kind: 'AlreadyLocked' });
        default:
          return reply({ ok: true });
      }
    },
  );
  t.deepEqual(calls.slice(0, 5).map((c) => c.request.type), ['InstanceAndVmmListBySledAgent', 'VmmGetState', 'VmmMarkFailed', 'SagaCreate', 'UpdaterLock']);
  t.like(calls[2]!.request, { vmmId: 'vmm-1', gen: 4 });
  t.like(calls[3]!.request, { name: 'start-instance-update', instanceId: 'inst-1' });
});

test('other watcher outcomes are inconclusive or fed through the conditional write', (t) => {
  const { calls } = driveFlow(
    (env) => instanceWatcherPass(ctx(env)),
    (call) => (call.request.type === 'InstanceAndVmmListBySledAgent' ? reply({ vmms: [vmm('Running', 3), { ...vmm('Running', 3), id: 'vmm-2' }] }) : call.request.type === 'VmmGetState' && call.request.vmmId === 'vmm-1' ? { ok: false, error: 'timeout' } : call.request.type === 'VmmGetState' ? reply({ type: 'VmmState', vmmId: 'vmm-2', runtime: { state: 'Running', gen: 3 }, state: { vmmState: { state: 'Running', gen: 3 }, migrationIn: null, migrationOut: null } }) : reply({ found: true, updated: false, instanceId: 'inst-1' })),
  );
  t.deepEqual(calls.map((c) => c.request.type), ['InstanceAndVmmListBySledAgent', 'VmmGetState', 'VmmGetState', 'VmmUpdateRuntime']);
});

test('with nexus/mark-failed-any-state the synthesized Failed goes through the plain conditional write', (t) => {
  const { calls } = driveFlow(
    (env) => instanceStopApi(ctx(env, ['nexus/mark-failed-any-state']), 'inst-1'),
    (call) => {
      switch (call.request.type) {
        case 'InstanceSetIntendedState':
          return reply({ found: true });
        case 'InstanceFetch':
          return reply({ instance, activeVmm: vmm('Destroyed', 7), targetVmm: null, migration: null });
        case 'VmmPutState':
          return reply({ type: 'NoSuchInstance', vmmId: 'vmm-1' });
        case 'SagaCreate':
          return reply({ created: true });
        default:
          return reply({ found: true, updated: false, instanceId: 'inst-1', ok: true });
      }
    },
  );
  t.like(calls.find((c) => c.request.type === 'VmmUpdateRuntime')!.request, { runtime: { state: 'Failed', gen: 8 } });
});

test('the effective state follows compute_state', (t) => {
  const s = (state: VmmRow['state']) => effectiveState({ instance, activeVmm: vmm(state, 3) });
  t.deepEqual(['Creating', 'Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed', 'Failed', 'SagaUnwound'].map((x) => s(x as VmmRow['state'])), [
    'Starting', 'Starting', 'Running', 'Stopping', 'Stopping', 'Stopping', 'Stopping', 'Failed',
  ]);
  t.is(effectiveState({ instance: { ...instance, state: 'NoVmm', activePropolisId: null }, activeVmm: null }), 'Stopped');
  t.is(effectiveState({ instance: { ...instance, state: 'Failed', activePropolisId: null }, activeVmm: null }), 'Failed');
});

// nexus/src/app/instance.rs instance_reboot: the intent is set to Running first; no active VMM is
// a 400 (select_runtime_change_action); else the sled-agent decides, and its answer is recorded;
// a 404 marks the VMM Failed, as for a stop.
test('instance reboot: refused with no VMM (the intent set all the same), sent to the sled-agent with one, a 404 marks the VMM Failed', (t) => {
  const stopped = withVmm('Destroyed', 6);
  Object.assign(stopped.instance.get('i')!, { state: 'NoVmm', activePropolisId: null, intendedState: 'Stopped' });
  const refused = driveFlow((env) => instanceRebootApi(ctx(env), 'i'), (c) => reply(run(stopped, c.request as never)));
  t.like(refused.result, { type: 'Error', code: 'InvalidRequest' });
  t.is(stopped.instance.get('i')!.intendedState, 'Running');

  const running = withVmm('Running', 3);
  const sent = driveFlow((env) => instanceRebootApi(ctx(env), 'i'), (c) =>
    c.to === 'crdb' ? reply(run(running, c.request as never)) : reply({ type: 'VmmState', vmmId: 'v', runtime: { state: 'Rebooting', gen: 4 }, state: { vmmState: { state: 'Rebooting', gen: 4 }, migrationIn: null, migrationOut: null } }),
  );
  t.like(sent.result, { type: 'Ok', state: 'Rebooting' });
  t.like(sent.calls.find((c) => c.to === 's')?.request, { type: 'VmmPutState', vmmId: 'v', target: 'Reboot' });
  t.like(running.vmm.get('v'), { state: 'Rebooting', gen: 4 });

  const gone = withVmm('Running', 3);
  const lost = driveFlow((env) => instanceRebootApi(ctx(env), 'i'), (c) => (c.to === 'crdb' ? reply(run(gone, c.request as never)) : reply({ type: 'NoSuchInstance', vmmId: 'v' })));
  t.like(lost.result, { type: 'Error', code: 'ServiceUnavailable' });
  t.is(gone.vmm.get('v')!.state, 'Failed');
});
