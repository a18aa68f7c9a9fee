// Our counterparts of the tests in omicron's sled-agent/src/common/instance.rs (b848b6df85) that
// are about migrations. Upstream drives `InstanceStates` by hand with Propolis observations; our
// simulated sled-agent has no such function (its VMMs move on their own: model/sled-agent/node.ts,
// migration.ts, sim-vmm.ts), so each test builds the same situation with two sled-agents and a
// Nexus stand-in that records every state they publish, does the same thing to the VMM through the
// sled-agent API, and checks what was published.

import test, { type ExecutionContext } from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import type { MigrationRuntimeState, SledVmmState } from '../../model/common/vmm-state.ts';
import type { NexusReply } from '../../model/nexus/api.ts';
import { call, sleep, type Flow, type Process } from '../../ports/index.ts';
import type { SledAgentReply, SledAgentRequest } from '../../model/sled-agent/api.ts';
import { simSledAgent, type SledAgentProcess } from '../../model/sled-agent/node.ts';
import type { SimVmm } from '../../model/sled-agent/sim-vmm.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';

interface Report {
  readonly vmmId: string;
  readonly state: SledVmmState;
}

interface Driver {
  ask(sled: string, r: SledAgentRequest): Flow<SledAgentReply | 'timeout'>;
  vmm(sled: string, vmmId: string): SimVmm | undefined;
  /** Poll (every millisecond of virtual time) until `cond` holds; false if it never did in `maxMs`. */
  waitUntil(cond: () => boolean, maxMs?: number): Flow<boolean>;
}

/** Two simulated sled-agents (sled-a, sled-b), a Nexus stand-in that acknowledges and records every report, and a driver script. */
function sleds(options: { migrationFailPerMille?: number }, script: (d: Driver) => Flow<void>) {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 2, delayMsMax: 2, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  const reports: Report[] = [];
  const nexus = (): Process => ({
    *onRequest(_env, _from, request) {
      const r = request as { type: string; vmmId: string; state: SledVmmState };
      if (r.type === 'CpapiVmmPut') reports.push({ vmmId: r.vmmId, state: r.state });
      return { type: 'Ok', state: null } satisfies NexusReply;
    },
  });
  sim.addNode({ id: 'nexus', initDurable: () => null, boot: nexus });
  for (const id of ['sled-a', 'sled-b']) {
    sim.addNode(
      simSledAgent(
        { id, nexus: ['nexus'], nexusTimeoutMs: 100, progressMsMin: 20, progressMsMax: 20, publishAttempts: 50, migrationMsMax: 100, migrationFailPerMille: options.migrationFailPerMille ?? 0 },
        new Set(),
      ),
    );
  }
  const vmm = (sled: string, vmmId: string): SimVmm | undefined => (sim.node(sled).process as SledAgentProcess | null)?.vmms.get(vmmId);
  const driver: Driver = {
    *ask(sled, r) {
      const result = yield* call<SledAgentReply>(sled, r, 1_000);
      return result.ok ? result.reply : 'timeout';
    },
    vmm,
    *waitUntil(cond, maxMs = 10_000) {
      for (let waited = 0; waited < maxMs; waited++) {
        if (cond()) return true;
        yield* sleep(1);
      }
      return cond();
    },
  };
  let done = false;
  sim.addNode({
    id: 'driver',
    initDurable: () => null,
    boot(env) {
      env.spawn('script', (function* () {
        yield* script(driver);
        done = true;
      })());
      return {};
    },
  });
  /** Run until nothing is left to do (the sled-agents have no periodic work), calling `each` after every step. */
  const run = (each: () => void = () => {}): void => {
    for (let i = 0; i < 1_000_000 && sim.step() !== null; i++) each();
  };
  return { sim, reports, vmm, run, done: () => done, of: (vmmId: string) => reports.filter((r) => r.vmmId === vmmId).map((r) => r.state) };
}

/** A source VMM `src` running on sled-a, and the target `dst` registered on sled-b for migration `m`. */
function* runningSourceAndTarget(d: Driver): Flow<void> {
  yield* d.ask('sled-a', { type: 'VmmRegister', vmmId: 'src', instanceId: 'i', migration: null });
  yield* d.ask('sled-a', { type: 'VmmPutState', vmmId: 'src', target: 'Running' });
  yield* d.waitUntil(() => d.vmm('sled-a', 'src')?.state === 'Running');
  yield* d.ask('sled-b', { type: 'VmmRegister', vmmId: 'dst', instanceId: 'i', migration: { migrationId: 'm', sledId: 'sled-a', vmmId: 'src' } });
}

const halted = (s: SledVmmState): boolean => s.vmmState.state === 'Destroyed' || s.vmmState.state === 'Failed';

/** assert_state_change_has_gen_change: a VMM state that changed moved its generation. */
function assertStateChangeHasGenChange(t: ExecutionContext, prev: SledVmmState, next: SledVmmState): void {
  if (prev.vmmState.gen === next.vmmState.gen) t.is(prev.vmmState.state, next.vmmState.state, `${prev.vmmState.state} -> ${next.vmmState.state} at one generation`);
}

// source_termination_fails_in_progress_migration (the Destroyed case; a simulated VMM never fails)
test('a migration source stopped while its migration out is InProgress halts with that migration Failed, one generation up', (t) => {
  let original: MigrationRuntimeState | null = null;
  const w = sleds({}, function* (d) {
    yield* runningSourceAndTarget(d);
    yield* d.ask('sled-b', { type: 'VmmMigrateIn', vmmId: 'dst' });
    t.true(yield* d.waitUntil(() => d.vmm('sled-a', 'src')?.migrationOut?.state === 'InProgress'));
    original = d.vmm('sled-a', 'src')!.migrationOut;
    yield* d.ask('sled-a', { type: 'VmmPutState', vmmId: 'src', target: 'Stopped' });
  });
  w.run();
  t.true(w.done());
  t.like(original, { migrationId: 'm', state: 'InProgress' });
  const last = w.of('src').at(-1)!;
  t.true(halted(last), `the source ended ${last.vmmState.state}`);
  t.is(last.migrationOut?.state, 'Failed');
  t.true(last.migrationOut!.gen > original!.gen, `migration out gen ${last.migrationOut!.gen} after ${original!.gen}`);
});

// target_termination_fails_in_progress_migration (the Destroyed case; a simulated VMM never fails)
test('a migration target stopped while its migration in is Pending halts with that migration Failed, one generation up', (t) => {
  const w = sleds({}, function* (d) {
    yield* d.ask('sled-b', { type: 'VmmRegister', vmmId: 'dst', instanceId: 'i', migration: { migrationId: 'm', sledId: 'sled-a', vmmId: 'src' } });
    yield* d.ask('sled-b', { type: 'VmmPutState', vmmId: 'dst', target: 'Stopped' });
  });
  w.run();
  t.true(w.done());
  const [first, ...rest] = w.of('dst');
  t.like(first, { vmmState: { state: 'Migrating' }, migrationIn: { migrationId: 'm', state: 'Pending', gen: 1 } });
  const last = rest.at(-1)!;
  t.true(halted(last), `the target ended ${last.vmmState.state}`);
  t.is(last.migrationIn?.state, 'Failed');
  t.true(last.migrationIn!.gen > first!.migrationIn!.gen);
});

// destruction_after_migration_out_does_not_transition
test('after a successful migration out the source stops and is destroyed, its migration out Completed once and never moved again', (t) => {
  let held = false;
  let again: SledAgentReply | 'timeout' | null = null;
  const w = sleds({}, function* (d) {
    yield* runningSourceAndTarget(d);
    yield* d.ask('sled-b', { type: 'VmmMigrateIn', vmmId: 'dst' });
    t.true(yield* d.waitUntil(() => held));
    // force_state_to_destroyed's counterpart: asked to stop once Destroyed (kept in the table
    // while its Destroyed report is held), the VMM moves no migration.
    again = yield* d.ask('sled-a', { type: 'VmmPutState', vmmId: 'src', target: 'Stopped' });
  });
  w.run(() => {
    if (!held && w.vmm('sled-a', 'src')?.state === 'Destroyed') {
      w.sim.hold('sled-a', 'nexus');
      held = true;
    }
    if (held && w.done()) w.sim.release('sled-a', 'nexus');
  });
  t.true(w.done());
  const src = w.of('src');
  const completed = src.findIndex((s) => s.migrationOut?.state === 'Completed');
  t.true(completed > 0, JSON.stringify(src));
  const prev = src[completed - 1]!;
  const handedOver = src[completed]!;
  // The hand-over: the source appears to stop, and reports the migration Completed.
  t.false(halted(handedOver));
  t.is(handedOver.vmmState.state, 'Stopping');
  assertStateChangeHasGenChange(t, prev, handedOver);
  t.true(handedOver.migrationOut!.gen > prev.migrationOut!.gen);
  // Every later report: the VMM moves on (Stopped is published as Stopping, then Destroyed), each
  // a generation up, while the migration stays Completed at the generation it completed at.
  const later = src.slice(completed + 1);
  t.deepEqual(later.map((s) => s.vmmState.state), ['Stopping', 'Destroyed']);
  let before = handedOver;
  for (const s of later) {
    assertStateChangeHasGenChange(t, before, s);
    t.true(s.vmmState.gen > before.vmmState.gen);
    t.deepEqual(s.migrationOut, handedOver.migrationOut);
    before = s;
  }
  t.true(halted(src.at(-1)!));
  t.like(again, { type: 'VmmState', state: { vmmState: { state: 'Destroyed' }, migrationOut: handedOver.migrationOut! } });
});

/** A migration that fails on its own: the target's reports. */
function failedMigrationIn() {
  const w = sleds({ migrationFailPerMille: 1000 }, function* (d) {
    yield* runningSourceAndTarget(d);
    yield* d.ask('sled-b', { type: 'VmmMigrateIn', vmmId: 'dst' });
  });
  w.run();
  const dst = w.of('dst');
  const failedAt = dst.findIndex((s) => s.migrationIn?.state === 'Failed');
  return { w, dst, failedAt };
}

// failure_after_migration_in_does_not_transition (the parts we agree on)
test('a migration target whose migration in fails halts, its migration in Failed one generation up', (t) => {
  const { w, dst, failedAt } = failedMigrationIn();
  t.true(w.done());
  t.true(failedAt > 0, JSON.stringify(dst));
  const prev = dst[failedAt - 1]!;
  t.is(prev.migrationIn?.state, 'InProgress');
  t.true(dst[failedAt]!.migrationIn!.gen > prev.migrationIn!.gen);
  const last = dst.at(-1)!;
  t.true(halted(last), `the target ended ${last.vmmState.state}`);
  t.deepEqual(last.migrationIn, dst[failedAt]!.migrationIn, 'the failure is not moved again');
  for (let i = 1; i < dst.length; i++) assertStateChangeHasGenChange(t, dst[i - 1]!, dst[i]!);
  t.is(w.vmm('sled-a', 'src')?.state, 'Running', 'the source runs on');
});

// failure_after_migration_in_does_not_transition: the target halts Failed (until issue 13 ours
// was stopped and destroyed instead).
test('a migration target whose migration in fails halts Failed', (t) => {
  const { dst } = failedMigrationIn();
  t.is(dst.at(-1)!.vmmState.state, 'Failed');
});

// rude_terminate_of_migration_target_fails_migrations: the simulated sled-agent answers
// instance_unregister with the VMM forced to Failed (terminate) and its migration failed (until
// issue 13 ours answered with no state).
test('unregistering a migration target (rude termination) answers with it Failed and its migration in Failed, one generation up', (t) => {
  let reply: SledAgentReply | 'timeout' | null = null;
  const w = sleds({}, function* (d) {
    yield* d.ask('sled-b', { type: 'VmmRegister', vmmId: 'dst', instanceId: 'i', migration: { migrationId: 'm', sledId: 'sled-a', vmmId: 'src' } });
    reply = yield* d.ask('sled-b', { type: 'VmmUnregister', vmmId: 'dst' });
  });
  w.run();
  t.true(w.done());
  const r = reply as SledAgentReply | 'timeout' | null;
  const state = r !== null && r !== 'timeout' && 'state' in r ? r.state : null;
  t.not(state, null, `answered ${JSON.stringify(r)}`);
  t.is(state?.vmmState.state, 'Failed');
  t.is(state?.migrationIn?.state, 'Failed');
  t.true((state?.migrationIn?.gen ?? 0) > 1);
});
