import test from 'ava';
import { emptyTables } from '../../model/crdb/tables.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { executeSaga, runSaga } from '../../model/nexus/saga/executor.ts';
import { instanceStart, type StartParams } from '../../model/nexus/sagas/instance-start.ts';
import type { CallResult, Env } from '../../ports/index.ts';
import { run } from '../helpers/db.ts';
import { driveFlow, type Call } from '../helpers/drive-flow.ts';
import { NEXUS_CONFIG } from '../helpers/records.ts';

// The start saga's registration when an answer is lost: upstream (instance_start.rs
// sis_ensure_registered) registers once; ours tries again, but only while the VMM's record shows
// it never lived. A retry must not bring back a VMM that died and was deleted meanwhile (the zombie
// O-L4 found: instance-lifecycle seed 689).

function startOf(onRegister: (attempt: number, tables: ReturnType<typeof emptyTables>) => CallResult<unknown>) {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'inst-1', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  const params: StartParams = { instanceId: 'inst-1', vmmId: 'vmm-1', sledId: 'sled-1', generation: 1, reason: 'User', lockAsRead: { updaterId: null, updaterGen: 0 } };
  let registers = 0;
  const respond = (call: Call): CallResult<unknown> => {
    if (call.to === 'crdb') return { ok: true, reply: run(tables, call.request as never) };
    if (call.request.type === 'VmmRegister') return onRegister(registers++, tables);
    if (call.request.type === 'VmmUnregister') return { ok: true, reply: { type: 'VmmUnregistered', vmmId: 'vmm-1' } };
    return { ok: true, reply: { type: 'VmmState', vmmId: 'vmm-1', runtime: { state: 'Running', gen: 3 }, state: { vmmState: { state: 'Running', gen: 3 }, migrationIn: null, migrationOut: null } } };
  };
  const ctx = (env: Env): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: false } });
  const { result } = driveFlow((env) => executeSaga(ctx(env), instanceStart, 'start-1', params), respond);
  return { result, registers: () => registers, tables };
}

test('a register whose answer was lost, the VMM then dead and deleted: no second register, the saga unwinds', (t) => {
  const s = startOf((attempt, tables) => {
    // The first register reached the sled-agent; its answer was lost. Meanwhile the sled-agent
    // crashed, the watcher marked the VMM Failed, and the update saga folded it in and deleted it.
    const vmm = tables.vmm.get('vmm-1')!;
    Object.assign(vmm, { state: 'Failed', gen: 4, timeDeleted: 5 });
    const instance = tables.instance.get('inst-1')!;
    Object.assign(instance, { activePropolisId: null, state: 'Failed' });
    return { ok: false, error: 'timeout' };
  });
  t.is(s.registers(), 1);
  t.is(s.result.kind, 'Failed');
});

test('a register whose answer was lost, the sled-agent having reported the VMM meanwhile: registered, no second call', (t) => {
  const s = startOf((_attempt, tables) => {
    Object.assign(tables.vmm.get('vmm-1')!, { state: 'Starting', gen: 2 });
    return { ok: false, error: 'timeout' };
  });
  t.is(s.registers(), 1);
  t.is(s.result.kind, 'Done');
});

test('a register lost before it reached the sled-agent (the record still Creating): tried again', (t) => {
  const s = startOf((attempt) => (attempt === 0 ? { ok: false, error: 'timeout' } : { ok: true, reply: { type: 'VmmState', vmmId: 'vmm-1', runtime: { state: 'Starting', gen: 2 }, state: { vmmState: { state: 'Starting', gen: 2 }, migrationIn: null, migrationOut: null } } }));
  t.is(s.registers(), 2);
  t.is(s.result.kind, 'Done');
});

// Found here (nexus/start-reregisters-after-crash, instance-lifecycle seed 1351): Nexus crashed
// while ensure_registered ran; the sled-agent then lost the VMM (a crash), the watcher marked it
// Failed and the update saga folded it. Recovery runs the node again. Upstream's registers blind
// and the sled-agent runs a VM no instance holds; ours reads the record first and unwinds.
test('a start resumed after a Nexus crash, its VMM failed and folded meanwhile: ours does not register it again; upstream\'s does', (t) => {
  for (const [bugs, registers, outcome] of [[[], 0, 'Failed'], [['nexus/start-reregisters-after-crash'], 1, 'Done']] as const) {
    const tables = emptyTables();
    run(tables, { type: 'InstanceCreate', instanceId: 'inst-1', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
    const params: StartParams = { instanceId: 'inst-1', vmmId: 'vmm-1', sledId: 'sled-1', generation: 1, reason: 'User', lockAsRead: { updaterId: null, updaterGen: 0 } };
    // The saga as recovery finds it: the record made and linked, ensure_registered in progress.
    run(tables, { type: 'SagaCreate', sagaId: 'start-1', name: 'instance-start', owner: 'nexus-1', instanceId: 'inst-1', params });
    run(tables, { type: 'VmmInsert', vmmId: 'vmm-1', instanceId: 'inst-1', sledId: 'sled-1' });
    run(tables, { type: 'SagaNodeDone', sagaId: 'start-1', node: 'create_vmm_record', output: null });
    run(tables, { type: 'InstanceMoveToStarting', instanceId: 'inst-1', vmmId: 'vmm-1', expectedGeneration: 1, autoRestart: false, stale: null });
    run(tables, { type: 'SagaNodeDone', sagaId: 'start-1', node: 'move_to_starting', output: null });
    // The lost VMM, reported Starting before the crash, then marked Failed, folded and deleted.
    Object.assign(tables.vmm.get('vmm-1')!, { state: 'Failed', gen: 3, timeDeleted: 5 });
    Object.assign(tables.instance.get('inst-1')!, { activePropolisId: null, state: 'Failed' });
    let registered = 0;
    const respond = (call: Call): CallResult<unknown> => {
      if (call.to === 'crdb') return { ok: true, reply: run(tables, call.request as never) };
      if (call.request.type === 'VmmRegister') registered++;
      return { ok: true, reply: { type: 'VmmState', vmmId: 'vmm-1', runtime: { state: 'Running', gen: 3 }, state: { vmmState: { state: 'Running', gen: 3 }, migrationIn: null, migrationOut: null } } };
    };
    const ctx = (env: Env): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(bugs), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: false } });
    const resume = run(tables, { type: 'SagaFetch', sagaId: 'start-1' });
    const { result } = driveFlow((env) => runSaga(ctx(env), instanceStart, 'start-1', params, resume), respond);
    t.is(registered, registers, bugs.join() || 'fixed');
    t.is(result.kind, outcome, bugs.join() || 'fixed');
  }
});

/** The start saga over a fresh instance, every sled-agent call answered, one node failed by injection. */
function startFailingAt(failAt: number | null, runRefused = false) {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'inst-1', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  const params: StartParams = { instanceId: 'inst-1', vmmId: 'vmm-1', sledId: 'sled-1', generation: 1, reason: 'User', lockAsRead: { updaterId: null, updaterGen: 1 } };
  const sled: string[] = [];
  const respond = (call: Call): CallResult<unknown> => {
    if (call.to === 'crdb') return { ok: true, reply: run(tables, call.request as never) };
    sled.push(call.request.type);
    if (runRefused && call.request.type === 'VmmPutState') return { ok: false, error: 'timeout' };
    if (call.request.type === 'VmmUnregister') return { ok: true, reply: { type: 'VmmUnregistered', vmmId: 'vmm-1' } };
    const state = call.request.type === 'VmmRegister' ? 'Starting' : 'Running';
    return { ok: true, reply: { type: 'VmmState', vmmId: 'vmm-1', runtime: { state, gen: 2 }, state: { vmmState: { state, gen: 2 }, migrationIn: null, migrationOut: null } } };
  };
  let drawn = 0;
  const choose = (label: string, n: number): number => (label === 'nexus.sagaInjectError' && drawn++ === failAt ? n - 1 : 0);
  const ctx = (env: Env): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: failAt !== null } });
  const { result } = driveFlow((env) => executeSaga(ctx(env), instanceStart, 'start-1', params), respond, choose);
  return { result, tables, sled };
}

// instance_start.rs test_saga_basic_usage_succeeds and test_action_failure_can_unwind: a failure
// at any node leaves the instance stopped (NoVmm, no active VMM), its VMM record SagaUnwound (or
// never made), nothing charged and nothing registered on the sled.
test('a start failing at any node unwinds to a stopped instance: no active VMM, no charge, nothing left registered', (t) => {
  const ok = startFailingAt(null);
  t.is(ok.result.kind, 'Done');
  t.like(ok.tables.instance.get('inst-1'), { state: 'Vmm', activePropolisId: 'vmm-1' });
  t.true(ok.tables.provisioning.has('inst-1'));
  for (let failAt = 0; failAt < instanceStart.nodes.length; failAt++) {
    const { result, tables, sled } = startFailingAt(failAt);
    const node = instanceStart.nodes[failAt]!.name;
    t.is(result.kind, 'Failed', node);
    t.like(tables.instance.get('inst-1'), { state: 'NoVmm', activePropolisId: null }, node);
    t.false(tables.provisioning.has('inst-1'), `${node}: still charged`);
    const vmm = tables.vmm.get('vmm-1');
    t.true(vmm === undefined || vmm.state === 'SagaUnwound', `${node}: VMM ${vmm?.state}`);
    t.is(sled.filter((c) => c === 'VmmRegister').length, sled.filter((c) => c === 'VmmUnregister').length, `${node}: registered and not unregistered`);
  }
});

// instance_start.rs test_ensure_running_unwind: the sled-agent fails the request to run; the saga
// unwinds from ensure_running, which has no undo, and the instance is left stopped, not Failed.
test('a start whose run request fails unwinds: the instance stopped, not Failed, nothing charged', (t) => {
  const { result, tables, sled } = startFailingAt(null, true);
  t.like(result, { kind: 'Failed' });
  t.regex((result as { error: string }).error, /^ensure_running: /);
  t.like(tables.instance.get('inst-1'), { state: 'NoVmm', activePropolisId: null });
  t.false(tables.provisioning.has('inst-1'));
  // Departure: ours asks again while the sled-agent does not answer (upstream fails at once on an
  // error); either way the saga ends by unregistering the VMM.
  t.is(sled[0], 'VmmRegister');
  t.true(sled.slice(1, -1).every((c) => c === 'VmmPutState'));
  t.is(sled.at(-1), 'VmmUnregister');
});
