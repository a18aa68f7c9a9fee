import test from 'ava';
import type { PropolisReply, PropolisRequest } from '../../model/propolis/api.ts';
import { DISK, diskVcr, pause, propolisWorld, QUIET, VMM, type Api, type PropolisWorld } from '../helpers/propolis-world.ts';

// Propolis' state driver on a real Crucible backend (our upstairs and downstairs), in the
// situations of propolis' PHD tests (phd-tests/tests/src/{crucible/smoke.rs,
// server_state_machine.rs} at 372a5744), each test naming its upstream one, and the start paths
// #873 describes. A dead downstairs is a "black hole" target: its activation waits for ever.

const HEALTHY = ['ds-1', 'ds-2', 'ds-3'];

function states(w: PropolisWorld): string[] {
  return (w.propolis()?.vm()?.publications ?? []).map((p) => p.state);
}

function published(w: PropolisWorld): string {
  return w.propolis()?.vm()?.published.state ?? 'none';
}

const ensure = { type: 'InstanceEnsure', vmmId: VMM, disks: [{ backendId: DISK, vcr: diskVcr(HEALTHY, 2) }] } as const;

test('instance_start_stop_test: Creating, Starting, Running; a stop: Stopping, Stopped, Destroyed; one generation per publication', (t) => {
  const w = propolisWorld(function* (api) {
    yield* api(ensure);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    yield* pause(2_000);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
  });
  t.true(w.runUntil(() => w.propolis()?.vm()?.rundown === 'Complete', 10_000));
  t.deepEqual(states(w), ['Creating', 'Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed']);
  t.deepEqual(w.propolis()!.vm()!.publications.map((p) => p.gen), [1, 2, 3, 4, 5, 6]);
  t.true(w.propolis()!.vm()!.publications.find((p) => p.state === 'Running')!.backendsActive, 'Running only once the backend is active (P-I5)');
});

test('vcr_replace_during_start_test: a start blocked on a dead downstairs runs once a VCR replacing it arrives; another replacement while running is taken too', (t) => {
  let first: PropolisReply | 'timeout' = 'timeout';
  let second: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(
    function* (api) {
      yield* api({ ...ensure, disks: [{ backendId: DISK, vcr: diskVcr(HEALTHY, 2) }] });
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(5_000);
      first = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-4'], 3) });
      yield* pause(5_000);
      second = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-5', 'ds-4'], 4) });
    },
    { dead: ['ds-3'] },
  );
  w.runUntil(() => false, 4_900);
  t.is(published(w), 'Starting', 'not Running within 5 s: the dead downstairs blocks activation');
  t.true(w.runUntil(() => published(w) === 'Running', 5_000));
  t.like(first, { type: 'VcrReplaced', result: 'Started' });
  t.true(w.runUntil(() => second !== 'timeout', 10_000));
  t.like(second, { type: 'VcrReplaced', result: 'Started' }, 'a replacement while running starts a live repair');
  t.is(published(w), 'Running');
  t.deepEqual(w.propolis()!.vm()!.backends.get(DISK)!.vcr, diskVcr(['ds-1', 'ds-5', 'ds-4'], 4), 'the spec stores the last VCR applied (P-I7)');
});

/** A VM started (`start`) against a dead downstairs, then stopped while its start is blocked: the world once run down, and the Stop's answer. */
function stopWhileBlocked(start: readonly PropolisRequest[]): { w: PropolisWorld; stop: PropolisReply | 'timeout' } {
  const result: { w: PropolisWorld | null; stop: PropolisReply | 'timeout' } = { w: null, stop: 'timeout' };
  result.w = propolisWorld(
    function* (api) {
      for (const r of start) yield* api(r);
      yield* pause(2_000);
      result.stop = yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
    },
    { dead: ['ds-2'] },
  );
  result.w.runUntil(() => result.w!.propolis()?.vm()?.rundown === 'Complete', 20_000);
  return { w: result.w, stop: result.stop };
}

test('stop_while_blocked_on_start_test: a VM blocked in Starting takes a Stop and ends Destroyed, publishing Stopped without Stopping', (t) => {
  const { w, stop } = stopWhileBlocked([ensure, { type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' }]);
  t.is(w.propolis()?.vm()?.rundown, 'Complete');
  t.like(stop, { type: 'Ok', status: 204 });
  t.deepEqual(states(w), ['Creating', 'Starting', 'Stopped', 'Destroyed']);
  t.is(w.propolis()!.vm()!.queue.state, 'Stopped');
  t.true(w.propolis()!.vm()!.queue.awaitStop, 'notify_stopped, not a Stop completion: the flag stays');
});

test('instance_stop_unstarted_test: a stop before any start halts the never-started VM', (t) => {
  const w = propolisWorld(function* (api) {
    yield* api(ensure);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
  });
  t.true(w.runUntil(() => w.propolis()?.vm()?.rundown === 'Complete', 5_000));
  t.deepEqual(states(w), ['Creating', 'Stopping', 'Stopped', 'Destroyed']);
});

test('instance_stop_causes_destroy_test: after Destroyed, run, stop and reset get 424', (t) => {
  const later: (PropolisReply | 'timeout')[] = [];
  const w = propolisWorld(function* (api) {
    yield* api(ensure);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    yield* pause(1_000);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
    yield* pause(1_000);
    for (const requested of ['Run', 'Stop', 'Reboot'] as const) later.push(yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested }));
  });
  t.true(w.runUntil(() => later.length === 3, 10_000));
  for (const r of later) t.like(r, { type: 'Error', status: 424 });
});

test('instance_reset_test: a reset before start is refused; while running it returns to Running; ten queued resets all succeed', (t) => {
  const resets: (PropolisReply | 'timeout')[] = [];
  let early: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(function* (api) {
    yield* api(ensure);
    early = yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Reboot' });
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    yield* pause(1_000);
    for (let i = 0; i < 10; i++) resets.push(yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Reboot' }));
  });
  t.true(w.runUntil(() => resets.length === 10 && published(w) === 'Running' && w.propolis()!.vm()!.phase.kind === 'Idle', 10_000));
  t.like(early, { type: 'Error', status: 403, reason: 'InstanceNotActive' });
  for (const r of resets) t.like(r, { type: 'Ok', status: 204 });
  t.true(states(w).includes('Rebooting'));
  t.is(states(w).at(-1), 'Running');
});

test('a VCR queued behind a Stop is answered 410 Gone: state requests dequeue first', (t) => {
  let vcr: PropolisReply | 'timeout' = 'timeout';
  // A reboot keeps the driver busy while the VCR and then the Stop are queued; the Stop goes first.
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(1_000);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Reboot' });
      vcr = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-4'], 3) });
    },
    {
      tuning: { ...QUIET, resetMs: 100 },
      *also(api) {
        yield* pause(1_030);
        yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
      },
    },
  );
  t.true(w.runUntil(() => vcr !== 'timeout', 10_000));
  t.like(vcr, { type: 'Error', status: 410 });
  t.deepEqual(states(w).slice(-5), ['Rebooting', 'Running', 'Stopping', 'Stopped', 'Destroyed']);
  t.is(w.propolis()!.vm()!.vcrReplies.size, 1, 'exactly one reply (P-I1)');
});

test('a device that fails its synchronous start: Failed at rundown, no Start completion; a VCR accepted meanwhile gets 410', (t) => {
  let vcr: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      vcr = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-4'], 3) });
    },
    { tuning: { ...QUIET, deviceStartFailPerMille: 1000, rundownMs: 200 } },
  );
  t.true(w.runUntil(() => vcr !== 'timeout', 5_000));
  t.deepEqual(states(w), ['Creating', 'Starting', 'Failed']);
  t.is(w.propolis()!.vm()!.queue.state, 'StartPending', 'no completion was reported');
  t.like(vcr, { type: 'Error', status: 410 });
});

test('a backend whose activation fails (a generation the downstairs have outgrown): Start failed, Failed at rundown', (t) => {
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    },
    { extentGen: 7 },
  );
  t.true(w.runUntil(() => w.propolis()?.vm()?.rundown === 'Complete', 10_000));
  t.deepEqual(states(w), ['Creating', 'Starting', 'Failed']);
  t.is(w.propolis()!.vm()!.queue.state, 'Failed', 'Start(succeeded: false)');
});

test('a Migrate while a start is blocked: denied (default); upstream queues it and the driver panics (propolis/migrate-accepted-while-starting)', (t) => {
  const script = function* (api: Api) {
    yield* api(ensure);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    yield* pause(500);
    yield* api({ type: 'InstanceMigrateStart', vmmId: VMM, migrationId: 'mig-1', target: 'propolis-b' });
  };
  const fixed = propolisWorld(script, { dead: ['ds-3'] });
  fixed.runUntil(() => fixed.replies.length === 3, 5_000);
  t.like(fixed.replies[2]!.reply, { type: 'Error', status: 403, reason: 'StartInProgress' });
  const upstream = propolisWorld(script, { dead: ['ds-3'], bugs: new Set(['propolis/migrate-accepted-while-starting']) });
  upstream.runUntil(() => upstream.sim.panic !== null, 5_000);
  t.regex(upstream.sim.panic?.message ?? '', /unreachable!: external request MigrateAsSource shouldn't be queued while starting/);
});

test('a migration handshake that fails: reported as a failed migration out (default); upstream reports nothing and every later Reboot is denied', (t) => {
  const script = (after: (PropolisReply | 'timeout')[]) =>
    function* (api: Api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(1_000);
      yield* api({ type: 'InstanceMigrateStart', vmmId: VMM, migrationId: 'mig-1', target: 'propolis-b' });
      yield* pause(1_000);
      after.push(yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Reboot' }));
    };
  const fixedAfter: (PropolisReply | 'timeout')[] = [];
  const fixed = propolisWorld(script(fixedAfter));
  fixed.runUntil(() => fixedAfter.length === 1 && fixed.propolis()!.vm()!.phase.kind === 'Idle', 5_000);
  t.like(fixedAfter[0], { type: 'Ok', status: 204 });
  t.like(fixed.propolis()!.vm()!.published, { state: 'Running', migrationOut: { migrationId: 'mig-1', state: 'Error' } });
  const upstreamAfter: (PropolisReply | 'timeout')[] = [];
  const upstream = propolisWorld(script(upstreamAfter), { bugs: new Set(['propolis/migrate-handshake-failure-unreported']) });
  upstream.runUntil(() => upstreamAfter.length === 1, 5_000);
  t.like(upstreamAfter[0], { type: 'Error', status: 403, reason: 'InvalidForMigrationSource' });
  t.true(upstream.propolis()!.vm()!.queue.awaitMigrationOut);
});

test('before #873 (propolis/start-awaited-inline): a blocked start takes nothing off the queue, neither the VCR that would rescue it nor a Stop', (t) => {
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(1_000);
      void (yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' }));
    },
    {
      dead: ['ds-3'],
      bugs: new Set(['propolis/start-awaited-inline']),
      *also(api) {
        yield* pause(500);
        yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-4'], 3) });
      },
    },
  );
  w.runUntil(() => false, 20_000);
  t.deepEqual(states(w), ['Creating'], 'Starting was not published before #873, and nothing moved');
  const queue = w.propolis()!.vm()!.queue;
  t.deepEqual(queue.stateQueue, [{ kind: 'Stop' }], 'the Stop is queued and never taken');
  t.is(queue.componentQueue.length, 1, 'the VCR that would rescue it too (#880 took it, nothing dequeues it)');
  t.is(w.propolis()!.vm()!.vcrReplies.size, 0);
});

test('before #880 (propolis/vcr-denied-while-starting): the VCR that would rescue a blocked start is denied', (t) => {
  let vcr: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(1_000);
      vcr = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-4'], 3) });
    },
    { dead: ['ds-3'], bugs: new Set(['propolis/vcr-denied-while-starting']) },
  );
  t.true(w.runUntil(() => vcr !== 'timeout', 5_000));
  t.like(vcr, { type: 'Error', status: 403, reason: 'StartInProgress' });
});

test('a crash of the Propolis process loses the VM: the monitor then answers 424', (t) => {
  let after: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(function* (api) {
    yield* api(ensure);
    yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    yield* pause(1_000);
    after = yield* api({ type: 'InstanceStateMonitor', vmmId: VMM });
  });
  w.runUntil(() => published(w) === 'Running', 2_000);
  w.sim.crash('propolis-a');
  w.sim.restart('propolis-a');
  t.true(w.runUntil(() => after !== 'timeout', 3_000));
  t.like(after, { type: 'Error', status: 424 });
});

test('disk_volume_status: unhealthy while a dead downstairs blocks activation, healthy once a replacement VCR lets it activate; the same VCR sent again is refused (400, no difference)', (t) => {
  const status: (PropolisReply | 'timeout')[] = [];
  let again: PropolisReply | 'timeout' = 'timeout';
  const replacement = diskVcr(['ds-1', 'ds-2', 'ds-4'], 3);
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
      yield* pause(2_000);
      status.push(yield* api({ type: 'InstanceDiskVolumeStatus', vmmId: VMM, backendId: DISK }));
      yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: replacement });
      yield* pause(3_000);
      status.push(yield* api({ type: 'InstanceDiskVolumeStatus', vmmId: VMM, backendId: DISK }));
      again = yield* api({ type: 'InstanceVcrReplace', vmmId: VMM, backendId: DISK, vcr: replacement });
      status.push(yield* api({ type: 'InstanceDiskVolumeStatus', vmmId: VMM, backendId: 'no-such-disk' }));
    },
    { dead: ['ds-3'] },
  );
  t.true(w.runUntil(() => status.length === 3, 20_000));
  t.deepEqual(status[0], { type: 'VolumeStatus', upstairs: [{ upstairsId: 'upstairs-1', targets: HEALTHY, healthy: false }] });
  t.deepEqual(status[1], { type: 'VolumeStatus', upstairs: [{ upstairsId: 'upstairs-1', targets: ['ds-1', 'ds-2', 'ds-4'], healthy: true }] });
  t.like(again, { type: 'Error', status: 400, message: 'The VCRs have no difference' }, 'crucible volume.rs: identical VCRs are refused');
  t.like(status[2], { type: 'Error', status: 404 });
  t.is(published(w), 'Running');
});

test('a Stop accepted between a device start failure and the run-down: the VM ends Failed and its queue, dropped, holds the Stop no more', (t) => {
  let stop: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(
    function* (api) {
      yield* api(ensure);
      yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Run' });
    },
    {
      tuning: { ...QUIET, deviceStartFailPerMille: 1000, rundownMs: 200 },
      *also(api) {
        yield* pause(50);
        stop = yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Stop' });
      },
    },
  );
  t.true(w.runUntil(() => w.propolis()?.vm()?.rundown === 'Complete', 5_000));
  t.like(stop, { type: 'Ok', status: 204 }, 'the queue took the Stop (StartPending)');
  const vm = w.propolis()!.vm()!;
  t.deepEqual(states(w), ['Creating', 'Starting', 'Failed']);
  t.true(vm.queue.awaitStop, 'the flag stays as it was when the queue was dropped');
  t.deepEqual(vm.queue.stateQueue, [], 'and the Stop went with the queue (P-I2 does not look at a dropped queue)');
});

test('a migration target: no VM to talk to during the migration-in protocol (424), Migrating until Running, never Starting (state_driver.rs run(migrated_in))', (t) => {
  let early: PropolisReply | 'timeout' = 'timeout';
  const w = propolisWorld(function* (api) {
    yield* api({ ...ensure, migrateIn: { migrationId: 'migration-1' } });
    early = yield* api({ type: 'InstanceStatePut', vmmId: VMM, requested: 'Reboot' });
  });
  t.true(w.runUntil(() => published(w) === 'Running', 5_000));
  t.like(early, { type: 'Error', status: 424 }, 'the objects do not exist yet');
  t.deepEqual(states(w), ['Migrating', 'Migrating', 'Running'], 'the Finish update, then Running: no Creating, no Starting');
  t.deepEqual(w.propolis()!.vm()!.publications.map((p) => p.gen), [1, 2, 3]);
  t.is(w.propolis()!.vm()!.queue.state, 'Running', 'its queue began StartPending (auto-start) and took the Start completion');
});

test('a migration target whose start waits on a dead downstairs takes a Stop like any start: Stopped, then Destroyed', (t) => {
  const { w, stop } = stopWhileBlocked([{ ...ensure, migrateIn: { migrationId: 'migration-1' } }]);
  t.is(w.propolis()?.vm()?.rundown, 'Complete');
  t.like(stop, { type: 'Ok', status: 204 });
  t.deepEqual(states(w), ['Migrating', 'Migrating', 'Stopped', 'Destroyed']);
});
