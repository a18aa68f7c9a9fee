import test from 'ava';
import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import type { NexusContext } from '../../model/nexus/context.ts';
import { executeSaga, runSaga } from '../../model/nexus/saga/executor.ts';
import { failed, ok, type SagaDef } from '../../model/nexus/saga/saga.ts';
import type { Env, Flow } from '../../ports/index.ts';
import { driveFlow } from '../helpers/drive-flow.ts';
import { run } from '../helpers/db.ts';
import { NEXUS_CONFIG } from '../helpers/records.ts';

const ctx = (env: Env): NexusContext => ({ env, config: NEXUS_CONFIG, bugs: new Set(), kick: () => {}, localSagas: new Set(), sagaErrors: { armed: false } });

/** A saga of three nodes that log what they do; `failAt` makes that node fail. */
function toySaga(log: string[], failAt: string | null): SagaDef<{ instanceId: string }> {
  const node = (name: string) => ({
    name,
    *action(): Flow<ReturnType<typeof ok>> {
      log.push(`do ${name}`);
      return name === failAt ? failed('boom') : ok(`${name}-out`);
    },
    *undo(): Flow<boolean> {
      log.push(`undo ${name}`);
      return true;
    },
  });
  return { name: 'toy', instanceOf: (p) => p.instanceId, nodes: [node('a'), node('b'), node('c')] };
}

function database(tables: Tables) {
  return (call: { to: string; request: any }) => ({ ok: true as const, reply: run(tables, call.request) });
}

test('a saga runs its nodes in order and logs each output durably', (t) => {
  const tables = emptyTables();
  const log: string[] = [];
  const { result } = driveFlow((env) => executeSaga(ctx(env), toySaga(log, null), 's1', { instanceId: 'i' }), database(tables));
  t.deepEqual(log, ['do a', 'do b', 'do c']);
  t.is(result.kind, 'Done');
  const row = tables.saga.get('s1')!;
  t.is(row.state, 'Done');
  t.deepEqual(row.outputs, { a: 'a-out', b: 'b-out', c: 'c-out' });
});

test('a failed node unwinds the finished ones in reverse, and is not undone itself', (t) => {
  const tables = emptyTables();
  const log: string[] = [];
  const { result } = driveFlow((env) => executeSaga(ctx(env), toySaga(log, 'c'), 's2', { instanceId: 'i' }), database(tables));
  t.deepEqual(log, ['do a', 'do b', 'do c', 'undo b', 'undo a']);
  t.deepEqual(result, { kind: 'Failed', error: 'c: boom' });
  t.deepEqual(tables.saga.get('s2')!.undone, ['b', 'a']);
});

test('recovery resumes from the log: finished nodes are skipped, the one in progress runs again', (t) => {
  const tables = emptyTables();
  run(tables, { type: 'SagaCreate', sagaId: 's3', name: 'toy', owner: 'nexus', instanceId: 'i', params: { instanceId: 'i' } });
  run(tables, { type: 'SagaNodeDone', sagaId: 's3', node: 'a', output: 'a-out' });
  const log: string[] = [];
  const resume = run(tables, { type: 'SagaFetch', sagaId: 's3' });
  const { result } = driveFlow((env) => runSaga(ctx(env), toySaga(log, null), 's3', { instanceId: 'i' }, resume), database(tables));
  t.deepEqual(log, ['do b', 'do c']);
  t.is(result.kind, 'Done');
});

test('an unwinding saga resumed after a crash undoes only what is left', (t) => {
  const tables = emptyTables();
  run(tables, { type: 'SagaCreate', sagaId: 's4', name: 'toy', owner: 'nexus', instanceId: 'i', params: { instanceId: 'i' } });
  run(tables, { type: 'SagaNodeDone', sagaId: 's4', node: 'a', output: 'a-out' });
  run(tables, { type: 'SagaNodeDone', sagaId: 's4', node: 'b', output: 'b-out' });
  run(tables, { type: 'SagaUnwind', sagaId: 's4', error: 'c: boom' });
  run(tables, { type: 'SagaNodeUndone', sagaId: 's4', node: 'b' });
  const log: string[] = [];
  const resume = run(tables, { type: 'SagaFetch', sagaId: 's4' });
  const { result } = driveFlow((env) => runSaga(ctx(env), toySaga(log, null), 's4', { instanceId: 'i' }, resume), database(tables));
  t.deepEqual(log, ['undo a']);
  t.is(result.kind, 'Failed');
  t.is(tables.saga.get('s4')!.state, 'Failed');
});

test('a saga whose log never answers stalls rather than running on unrecorded', (t) => {
  const log: string[] = [];
  const { result } = driveFlow((env) => executeSaga(ctx(env), toySaga(log, null), 's5', { instanceId: 'i' }), () => ({ ok: false, error: 'timeout' }));
  t.deepEqual(result, { kind: 'Stalled' });
  t.deepEqual(log, []);
});

// steno's saga_inject_error, as upstream's action_failure_can_unwind uses it: while armed, a node
// about to run fails (with a drawn chance) without running its action, and is not undone itself;
// undo actions are never failed. Disarmed, nothing is drawn at all.
test('an injected error fails a node without running it; the finished nodes are undone', (t) => {
  const log: string[] = [];
  const tables = emptyTables();
  const injectAtB = (label: string, n: number): number => (label === 'nexus.sagaInjectError' && log.length === 1 ? n - 1 : 0);
  const armed = (env: Env): NexusContext => ({ ...ctx(env), sagaErrors: { armed: true } });
  const { result } = driveFlow((env) => executeSaga(armed(env), toySaga(log, null), 's6', { instanceId: 'i' }), database(tables), injectAtB);
  t.deepEqual(log, ['do a', 'undo a']);
  t.deepEqual(result, { kind: 'Failed', error: 'b: injected error' });

  const drawn: string[] = [];
  const disarmed = driveFlow((env) => executeSaga(ctx(env), toySaga([], null), 's7', { instanceId: 'i' }), database(tables), (label) => (drawn.push(label), 0));
  t.is(disarmed.result.kind, 'Done');
  t.false(drawn.includes('nexus.sagaInjectError'), 'no choice drawn while disarmed: tapes of runs without the fault are unchanged');
});
