// Live repair, extent by extent and interleaved with guest IO (model/crucible/upstairs/live-repair.ts),
// driven message by message as Crucible's own tests drive it: upstairs/src/live_repair.rs,
// the live-repair tests of downstairs.rs and upstairs.rs, and the ExtentClose/FlushClose tests of
// downstairs/src/lib.rs. Each test names the upstream tests it stands for.
// Departure, on purpose: upstream sends a job at once and the downstairs waits on its dependency
// list; ours runs jobs in arrival order, so the upstairs holds a job that depends on the unsent
// reopen (IO to the extent under repair, a flush) and sends it right after the reopen. Where
// upstream checks a dependency list, we check that order.

import test from 'ava';
import { ProtocolPanic } from '../../model/assert.ts';
import type { DownstairsMessage, ExtentVersionsBody, UpstairsMessage } from '../../model/crucible/protocol.ts';
import { activeUpstairs, bootDownstairs, clientStates, DOWNSTAIRS, expectLast, faultClient, fireTimers, fromDs, heard, negotiate, running, say, toDs, types, U1, versions, type UpRig } from '../helpers/crucible-rig.ts';

type Sent<T extends UpstairsMessage['type']> = Extract<UpstairsMessage, { type: T }>;

/** An Active upstairs (gen 1) whose client `i` came back Faulted and renegotiated: live repair has started. */
function repairing(i = 1, body: ExtentVersionsBody = versions(0, 0)): UpRig {
  const rig = activeUpstairs(1);
  faultClient(rig, i);
  t0(clientStates(rig)[i] === 'Connecting{Start, Faulted}', `client ${i} back Faulted`);
  negotiate(rig, i, body);
  return rig;
}

function t0(ok: boolean, what: string): void {
  if (!ok) throw new Error(`setup: not ${what}`);
}

/** Every client that was sent job `jobId`, and what it was sent. */
function sentJob(rig: UpRig, jobId: number): Map<number, UpstairsMessage> {
  const out = new Map<number, UpstairsMessage>();
  DOWNSTAIRS.forEach((_, i) => {
    const m = toDs(rig, i).find((x) => 'jobId' in x && x.jobId === jobId);
    if (m !== undefined) out.set(i, m);
  });
  return out;
}

const closeAck = (jobId: number, gen = 0, flush = 0, dirty = false): DownstairsMessage => ({ type: 'ExtentLiveCloseAck', jobId, gen, flush, dirty });
const liveAck = (jobId: number): DownstairsMessage => ({ type: 'ExtentLiveAckId', jobId });

/** Every client it was sent to answers job `jobId`. */
function ackAll(rig: UpRig, jobId: number, answer: (client: number) => DownstairsMessage): void {
  for (const i of sentJob(rig, jobId).keys()) fromDs(rig, i, answer(i));
}

/** Walk the current extent through close (equal everywhere), no-op repair, no-op, reopen. */
function repairExtentNoop(rig: UpRig): void {
  const ids = rig.proc.upstairs.repair!.ids;
  ackAll(rig, ids.close, () => closeAck(ids.close));
  ackAll(rig, ids.repair, () => liveAck(ids.repair));
  ackAll(rig, ids.noop, () => liveAck(ids.noop));
  ackAll(rig, ids.reopen, () => liveAck(ids.reopen));
}

const guest = (rig: UpRig, request: Record<string, unknown>): void => rig.proc.onMessage!(rig.env, 'guest', request);

// upstairs.rs test_check_for_repair_normal: all Active, any event: no repair starts.
test('live repair: nothing starts while every client is Active', (t) => {
  const rig = activeUpstairs(1);
  fireTimers(rig.env, rig.proc, 'KeepAlive');
  t.is(rig.proc.upstairs.repair, null);
  t.deepEqual(clientStates(rig), ['Active', 'Active', 'Active']);
});

// upstairs.rs test_check_for_repair_do_repair; live_repair.rs test_reserve_extent_repair_ids;
// downstairs.rs test_live_repair_enqueue_close and test_live_repair_enqueue_reopen: a client in
// LiveRepairReady starts a repair at extent 0 from an Active source; four ids are reserved at
// once; the close goes out, flush-and-close to the healthy clients with the next flush number and
// the generation, close only to the one under repair; the reopen is made but not sent.
test('live repair: a client back Faulted starts a repair at extent 0, four job ids reserved, the close sent', (t) => {
  const rig = repairing(1);
  const up = rig.proc.upstairs;
  t.deepEqual(clientStates(rig), ['Active', 'LiveRepair', 'Active']);
  t.like(up.repair, { activeExtent: 0, source: 2, repairDownstairs: [1], step: 'Closing', ids: { close: 1, repair: 2, noop: 3, reopen: 4 } });
  t.is(up.nextJobId, 4, 'the four ids are taken');
  const close = sentJob(rig, 1);
  t.deepEqual(close.get(0), { type: 'ExtentLiveFlushClose', jobId: 1, extent: 0, flushNumber: 1, gen: 1 });
  t.deepEqual(close.get(1), { type: 'ExtentLiveClose', jobId: 1, extent: 0 });
  t.deepEqual(close.get(2), { type: 'ExtentLiveFlushClose', jobId: 1, extent: 0, flushNumber: 1, gen: 1 });
  t.is(sentJob(rig, 4).size, 0, 'the reopen waits for the no-op');
  t.true(up.jobs.get(4)?.held);
  guest(rig, { type: 'GuestWrite', requestId: 'g1', extent: 1, block: 0, writeId: 'w1' });
  t.truthy(up.jobs.get(5), 'the next job takes the id after the reserved ones');
});

// upstairs.rs test_check_for_repair_already_repair and test_check_for_repair_task_running: while
// a repair runs, more events (and another client becoming ready) leave it as it is.
test('live repair: a repair under way is not restarted by later events', (t) => {
  const rig = repairing(1);
  const repair = rig.proc.upstairs.repair;
  fireTimers(rig.env, rig.proc, 'KeepAlive');
  t.is(rig.proc.upstairs.repair, repair);
  t.is(sentJob(rig, 1).size, 3, 'one close, sent once to each client');
  t.is(toDs(rig, 1).filter((m) => m.type === 'ExtentLiveClose').length, 1);
});

// live_repair.rs test_repair_extent_no_action_all; downstairs.rs test_solver_no_work and
// test_live_repair_enqueue_repair_noop: equal close results make the repair job a no-op for all;
// then the no-op, then the reopen goes out, then extent 1 starts with four new ids.
test('live repair: equal close results: no-op repair, no-op, reopen, then the next extent', (t) => {
  const rig = repairing(1);
  const up = rig.proc.upstairs;
  ackAll(rig, 1, () => closeAck(1, 1, 1, false));
  t.is(up.repair!.step, 'Repairing');
  t.deepEqual([...sentJob(rig, 2).values()], [0, 1, 2].map(() => ({ type: 'ExtentLiveNoOp', jobId: 2 })));
  ackAll(rig, 2, () => liveAck(2));
  t.deepEqual([...sentJob(rig, 3).values()].map((m) => m.type), ['ExtentLiveNoOp', 'ExtentLiveNoOp', 'ExtentLiveNoOp']);
  t.is(sentJob(rig, 4).size, 0, 'no reopen before the no-op is done');
  ackAll(rig, 3, () => liveAck(3));
  t.deepEqual(sentJob(rig, 4).get(1), { type: 'ExtentLiveReopen', jobId: 4, extent: 0 });
  ackAll(rig, 4, () => liveAck(4));
  t.like(up.repair, { activeExtent: 1, step: 'Closing', ids: { close: 5, repair: 6, noop: 7, reopen: 8 } });
  t.deepEqual(sentJob(rig, 5).get(1), { type: 'ExtentLiveClose', jobId: 5, extent: 1 });
});

// live_repair.rs test_repair_extent_do_repair_all and test_live_repair_update; downstairs.rs
// test_live_repair_enqueue_repair_repair and the test_solver_* tests: the client under repair is
// repaired from the source when its extent differs in any way (dirty, a lower or higher
// generation, a lower or higher flush number); the other clients get a no-op.
test('live repair: any difference from the source (dirty, gen or flush, lower or higher) repairs the extent; equal is a no-op', (t) => {
  const source = { gen: 3, flush: 5, dirty: false };
  const cases: [string, { gen: number; flush: number; dirty: boolean }, boolean][] = [
    ['same', source, false], // test_solver_no_work
    ['dirty', { ...source, dirty: true }, true], // test_solver_dirty_needs_repair_one
    ['gen lower', { ...source, gen: 2 }, true], // test_solver_gen_lower_needs_repair_one
    ['gen higher', { ...source, gen: 4 }, true], // test_solver_gen_higher_needs_repair_one
    ['flush lower', { ...source, flush: 4 }, true], // test_solver_flush_lower_needs_repair_one
    ['flush higher', { ...source, flush: 6 }, true], // test_solver_flush_higher_needs_repair_one
  ];
  for (const [name, target, repaired] of cases) {
    const rig = repairing(1);
    ackAll(rig, 1, (c) => (c === 1 ? closeAck(1, target.gen, target.flush, target.dirty) : closeAck(1, source.gen, source.flush, source.dirty)));
    const job = sentJob(rig, 2);
    t.deepEqual(job.get(1), repaired ? { type: 'ExtentLiveRepair', jobId: 2, extent: 0, source: 'ds-3' } : { type: 'ExtentLiveNoOp', jobId: 2 }, name);
    t.deepEqual([job.get(0)?.type, job.get(2)?.type], ['ExtentLiveNoOp', 'ExtentLiveNoOp'], `${name}: the healthy clients no-op`);
    t.is(rig.proc.upstairs.jobs.get(1), undefined, `${name}: the close results were consumed`);
  }
});

// upstairs.rs test_check_for_repair_already_repair; downstairs.rs test_solver_dirty_needs_repair_two
// (and the other *_two solver tests): a client ready while another's repair runs waits; when
// that repair ends (here aborted) with both ready, one repair takes both, and each is repaired
// only where its own extent differs from the source.
test('live repair: two clients ready together are repaired together, each only where its extent differs', (t) => {
  const rig = repairing(1);
  faultClient(rig, 0); // lost during the repair: Faulted, its jobs skipped
  negotiate(rig, 0, versions(0, 0));
  t.deepEqual(clientStates(rig), ['Connecting{LiveRepairReady, Faulted}', 'LiveRepair', 'Active'], 'client 0 waits for the repair under way');
  fromDs(rig, 1, { type: 'Closed', reason: 'connection reset' }); // the repaired client lost too
  fromDs(rig, 2, closeAck(1)); // the close completes, skipped twice: failed, the repair aborts
  t.true(rig.proc.upstairs.repair!.aborting);
  fireTimers(rig.env, rig.proc, 'Reconnect');
  negotiate(rig, 1, versions(0, 0));
  for (const id of [2, 3, 4]) fromDs(rig, 2, liveAck(id));
  const flush = rig.proc.upstairs.repair!.waitingFor;
  t.is(flush.kind, 'Flush');
  fromDs(rig, 2, { type: 'FlushAck', jobId: flush.id });
  const up = rig.proc.upstairs;
  t.like(up.repair, { repairDownstairs: [0, 1], source: 2, activeExtent: 0 });
  t.deepEqual(clientStates(rig), ['LiveRepair', 'LiveRepair', 'Active']);
  const close = up.repair!.ids.close;
  t.deepEqual([0, 1, 2].map((c) => sentJob(rig, close).get(c)?.type), ['ExtentLiveClose', 'ExtentLiveClose', 'ExtentLiveFlushClose']);
  ackAll(rig, close, (c) => (c === 0 ? closeAck(close, 1, 1, true) : closeAck(close, 1, 1, false)));
  const repair = sentJob(rig, up.repair!.ids.repair);
  t.deepEqual([0, 1, 2].map((c) => repair.get(c)?.type), ['ExtentLiveRepair', 'ExtentLiveNoOp', 'ExtentLiveNoOp'], 'only the dirty one is repaired');
});

// live_repair.rs test_repair_io_above_repair_extent, test_repair_io_at_repair_extent,
// test_repair_io_below_repair_extent; downstairs.rs test_live_repair_deps_repair_write,
// _repair_read, _repair_flush, _no_overlap, _after_no_overlap, test_repair_dep_cleanup_some:
// during the repair of extent 0, IO above it skips the client under repair; IO to extent 0 and
// flushes are in progress on all three but wait for the reopen (a write after the waiting flush
// waits too); once the reopen goes out they follow it in order; a flush tells only the client
// under repair its extent limit.
test('live repair: guest IO during the repair: above skips the repairing client, at and flushes wait for the reopen', (t) => {
  const rig = repairing(1);
  const up = rig.proc.upstairs;
  guest(rig, { type: 'GuestWrite', requestId: 'above', extent: 1, block: 0, writeId: 'w-above' }); // 5
  guest(rig, { type: 'GuestWrite', requestId: 'at', extent: 0, block: 1, writeId: 'w-at' }); // 6
  guest(rig, { type: 'GuestRead', requestId: 'read-at', extent: 0, block: 1 }); // 7
  guest(rig, { type: 'GuestFlush', requestId: 'flush' }); // 8
  guest(rig, { type: 'GuestWrite', requestId: 'after-flush', extent: 2, block: 0, writeId: 'w-after' }); // 9
  t.deepEqual([...sentJob(rig, 5).keys()], [0, 2], 'above the repair: skipped on the client under repair');
  t.true(up.jobs.get(5)!.skipped.has(1));
  for (const id of [6, 7, 8, 9]) t.is(sentJob(rig, id).size, 0, `job ${id} waits for the reopen`);
  t.false(up.jobs.get(6)!.skipped.has(1), 'IO at the extent under repair is for the repairing client too');

  ackAll(rig, 1, () => closeAck(1));
  ackAll(rig, 2, () => liveAck(2));
  for (const id of [6, 7, 8, 9]) t.is(sentJob(rig, id).size, 0, `job ${id} still waits during the no-op`);
  ackAll(rig, 3, () => liveAck(3));
  const order = toDs(rig, 1).filter((m) => 'jobId' in m && m.jobId >= 4).map((m) => (m as { jobId: number }).jobId);
  t.deepEqual(order, [4, 6, 7, 8], 'the reopen, then what waited for it, in order (9 is above the limit for client 1)');
  t.deepEqual(toDs(rig, 0).filter((m) => 'jobId' in m && m.jobId >= 4).map((m) => (m as { jobId: number }).jobId), [5, 4, 6, 7, 8, 9], 'above the repair went at once');
  t.is((sentJob(rig, 8).get(1) as Sent<'Flush'>).extentLimit, 0, 'the repairing client flushes only up to the extent under repair');
  t.is((sentJob(rig, 8).get(0) as Sent<'Flush'>).extentLimit, null, 'the others flush everything');
});

// live_repair.rs test_repair_io_below_repair_extent; downstairs.rs
// test_live_repair_send_io_write_below: once extent 0 is repaired, IO to it reaches all three.
test('live repair: IO to an extent already repaired reaches the client under repair', (t) => {
  const rig = repairing(1);
  repairExtentNoop(rig);
  t.is(rig.proc.upstairs.repair!.activeExtent, 1);
  guest(rig, { type: 'GuestWrite', requestId: 'below', extent: 0, block: 0, writeId: 'w-below' });
  const id = rig.proc.upstairs.nextJobId;
  t.deepEqual([...sentJob(rig, id).keys()], [0, 1, 2]);
});

// dummy_downstairs_tests.rs test_successful_live_repair: every extent in turn, then a final flush
// to all three, acked: the client under repair is Active, and guest IO reaches it everywhere.
test('live repair: all extents, then a final flush; the repaired client is Active', (t) => {
  const rig = repairing(1);
  for (let e = 0; e < 4; e++) {
    t.is(rig.proc.upstairs.repair!.activeExtent, e);
    repairExtentNoop(rig);
  }
  const repair = rig.proc.upstairs.repair!;
  t.is(repair.step, 'FinalFlush');
  const flushId = repair.waitingFor.id;
  t.deepEqual([...sentJob(rig, flushId).keys()], [0, 1, 2]);
  t.is((sentJob(rig, flushId).get(1) as Sent<'Flush'>).extentLimit, 3);
  fromDs(rig, 0, { type: 'FlushAck', jobId: flushId });
  t.is(clientStates(rig)[1], 'LiveRepair', 'one ack is not enough');
  fromDs(rig, 2, { type: 'FlushAck', jobId: flushId });
  t.deepEqual(clientStates(rig), ['Active', 'Active', 'Active'], 'acked by two: the repair is over');
  t.is(rig.proc.upstairs.repair, null);
});

// live_repair.rs test_repair_extent_repair_fails_all; dummy_downstairs_tests.rs
// test_error_during_live_repair_no_halt: the repair of extent 0 fails on the client under repair:
// it is faulted (FailedLiveRepair), the no-op and the reopen still go to the others, then a final
// flush; the client comes back Faulted and a new repair starts at extent 0.
test('live repair: a failed extent repair faults the client, the reserved jobs still go out, and the repair starts over', (t) => {
  const rig = repairing(1);
  ackAll(rig, 1, (c) => closeAck(1, c === 1 ? 0 : 1, c === 1 ? 0 : 1));
  t.is(sentJob(rig, 2).get(1)?.type, 'ExtentLiveRepair');
  fromDs(rig, 0, liveAck(2));
  fromDs(rig, 2, liveAck(2));
  fromDs(rig, 1, { type: 'ExtentLiveRepairAckId', jobId: 2, error: 'source unavailable' });
  t.is(clientStates(rig)[1], 'Stopping(Fault)');
  t.true(rig.proc.upstairs.repair!.aborting);
  t.deepEqual([...sentJob(rig, 3).keys()], [0, 2], 'the no-op still goes to the others');
  ackAll(rig, 3, () => liveAck(3));
  t.deepEqual([...sentJob(rig, 4).keys()], [0, 2], 'and the reopen');
  ackAll(rig, 4, () => liveAck(4));
  const flush = rig.proc.upstairs.repair!.waitingFor;
  t.is(flush.kind, 'Flush', 'no next extent: the final flush');
  ackAll(rig, flush.id, () => ({ type: 'FlushAck', jobId: flush.id }));
  t.is(rig.proc.upstairs.repair, null);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.is(clientStates(rig)[1], 'Connecting{Start, Faulted}');
  fireTimers(rig.env, rig.proc, 'Reconnect');
  negotiate(rig, 1, versions(0, 0));
  t.like(rig.proc.upstairs.repair, { activeExtent: 0, aborting: false });
  t.is(clientStates(rig)[1], 'LiveRepair');
});

// upstairs.rs test_offline_becomes_faulted_when_live_repair_starts: an Offline client when a
// repair starts is made Faulted (it cannot be replayed to any more).
test('live repair: an Offline client is made Faulted when a repair starts', (t) => {
  const rig = activeUpstairs(1);
  faultClient(rig, 1);
  fromDs(rig, 2, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[2], 'Connecting{Start, Offline}');
  negotiate(rig, 1, versions(0, 0));
  t.deepEqual(clientStates(rig), ['Active', 'LiveRepair', 'Connecting{Start, Faulted}']);
  t.is(rig.proc.upstairs.repair?.source, 0);
});

// upstairs.rs test_downstairs_goes_offline_during_live_repair: a healthy client that loses its
// connection during a repair comes back Faulted, not Offline (no replay while repairing).
test('live repair: a client lost during a repair comes back Faulted, not Offline', (t) => {
  const rig = repairing(1);
  fromDs(rig, 0, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[0], 'Connecting{Start, Faulted}');
});

// live_repair.rs test_repair_extent_fail_reopen_all and the source's loss: the source gone, the
// next repair job completes with it skipped and the repair aborts (the client under repair is
// faulted); nothing is left in LiveRepair.
test('live repair: the source lost aborts the repair when the job under way completes', (t) => {
  const rig = repairing(1);
  fromDs(rig, 2, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[2], 'Connecting{Start, Faulted}');
  t.is(clientStates(rig)[1], 'LiveRepair', 'not yet: the close is still out on client 0 and 1');
  fromDs(rig, 0, closeAck(1));
  fromDs(rig, 1, closeAck(1));
  t.is(clientStates(rig)[1], 'Stopping(Fault)');
  t.true(rig.proc.upstairs.repair!.aborting);
});

// upstairs.rs test_downstairs_three_live_repair: all three need repair while Active: there is no
// source, so they are reconciled instead (Connecting{Reconcile, New}).
test('live repair: all three needing repair are reconciled instead', (t) => {
  const rig = activeUpstairs(1);
  const dirty0: ExtentVersionsBody = { gen: [1, 1, 1, 1], flush: [1, 1, 1, 1], dirty: [true, false, false, false] };
  const clean: ExtentVersionsBody = { gen: [1, 1, 1, 1], flush: [1, 1, 1, 1], dirty: [false, false, false, false] };
  // Fault client 0 and 1 (each starts a repair that the next loss aborts), then 2.
  for (const i of [0, 1, 2]) faultClient(rig, i);
  negotiate(rig, 0, dirty0);
  negotiate(rig, 1, clean);
  negotiate(rig, 2, clean);
  t.deepEqual(clientStates(rig), ['Connecting{Reconcile, New}', 'Connecting{Reconcile, New}', 'Connecting{Reconcile, New}']);
  t.is(expectLast(rig, 0, 'ExtentFlush').extent, 0, 'the dirty extent is fixed from client 0');
});

// downstairs/src/lib.rs test_extent_write_flush_close, test_extent_write_close,
// test_extent_write_write_flush_close, test_extent_new_close_flush_close: a flush-and-close
// reports the extent flushed; a close only reports it as it is (dirty after a write); the flush
// touches that extent alone; a reopen makes it writable again.
test('downstairs: ExtentLiveFlushClose flushes then closes one extent; ExtentLiveClose only closes; reopen opens', (t) => {
  const rig = bootDownstairs();
  const c = running(rig, { ...U1, conn: 'c1' }, 10);
  say(rig, c, { type: 'ExtentLiveClose', jobId: 1, extent: 3 });
  t.deepEqual(heard(rig, c).at(-1), { type: 'ExtentLiveCloseAck', jobId: 1, gen: 0, flush: 0, dirty: false }, 'an unwritten extent');
  say(rig, c, { type: 'ExtentLiveReopen', jobId: 2, extent: 3 });
  say(rig, c, { type: 'Write', jobId: 3, extent: 1, block: 0, data: { writeId: 'w1', gen: 10 } });
  say(rig, c, { type: 'Write', jobId: 4, extent: 2, block: 0, data: { writeId: 'w2', gen: 10 } });
  say(rig, c, { type: 'ExtentLiveFlushClose', jobId: 5, extent: 1, flushNumber: 6, gen: 10 });
  t.deepEqual(heard(rig, c).at(-1), { type: 'ExtentLiveCloseAck', jobId: 5, gen: 10, flush: 6, dirty: false });
  say(rig, c, { type: 'ExtentLiveClose', jobId: 6, extent: 2 });
  t.deepEqual(heard(rig, c).at(-1), { type: 'ExtentLiveCloseAck', jobId: 6, gen: 0, flush: 0, dirty: true }, 'the flush did not touch extent 2');
  say(rig, c, { type: 'ExtentLiveNoOp', jobId: 7 });
  say(rig, c, { type: 'ExtentLiveReopen', jobId: 8, extent: 1 });
  say(rig, c, { type: 'Write', jobId: 9, extent: 1, block: 1, data: { writeId: 'w3', gen: 10 } });
  t.deepEqual(types(heard(rig, c).slice(-3)), ['ExtentLiveAckId', 'ExtentLiveAckId', 'WriteAck']);
});

// downstairs/src/lib.rs test_extent_simple_close_flush_close and the jobs_extent_* tests; ours
// asserts what upstream's dependencies guarantee: no IO reaches a closed extent.
test('downstairs: IO to an extent closed for live repair is a model panic', (t) => {
  const rig = bootDownstairs();
  const c = running(rig, { ...U1, conn: 'c1' }, 1);
  say(rig, c, { type: 'ExtentLiveClose', jobId: 1, extent: 0 });
  t.throws(() => say(rig, c, { type: 'Write', jobId: 2, extent: 0, block: 0, data: { writeId: 'w', gen: 1 } }), { instanceOf: ProtocolPanic });
});

// region.rs region_flush with extent_limit: a flush with a limit leaves the extents past it dirty.
test('downstairs: a flush with an extent limit stamps only the extents up to it', (t) => {
  const rig = bootDownstairs();
  const c = running(rig, { ...U1, conn: 'c1' }, 2);
  for (let e = 0; e < 4; e++) say(rig, c, { type: 'Write', jobId: e + 1, extent: e, block: 0, data: { writeId: `w${e}`, gen: 2 } });
  say(rig, c, { type: 'Flush', jobId: 5, flushNumber: 7, gen: 2, extentLimit: 1 });
  t.deepEqual(rig.ds.region.extents.map((x) => [x.flush, x.dirty]), [[7, false], [7, false], [0, true], [0, true]]);
});

// downstairs.rs test_live_repair_deps_writes, test_live_repair_deps_reads and
// test_live_repair_deps_mix: the close of an extent runs after the IO to it already submitted
// (upstream: a dependency; ours: it is sent after them, on the same connection).
test('live repair: the close follows the IO already sent to its extent', (t) => {
  const rig = activeUpstairs(1);
  faultClient(rig, 1);
  guest(rig, { type: 'GuestWrite', requestId: 'w', extent: 0, block: 0, writeId: 'w0' }); // 1
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 0, block: 0 }); // 2
  guest(rig, { type: 'GuestFlush', requestId: 'f' }); // 3
  negotiate(rig, 1, versions(0, 0));
  const close = rig.proc.upstairs.repair!.ids.close;
  t.is(close, 4);
  for (const c of [0, 2]) {
    const ids = toDs(rig, c).filter((m) => 'jobId' in m).map((m) => (m as { jobId: number }).jobId);
    t.deepEqual(ids, [1, 2, 3, 4], `client ${c}: the write, read and flush, then the close`);
  }
});

// downstairs/src/lib.rs test_extent_write_flush_write_close: a write, a flush, another write, then
// a close: the close reports the flush's generation and number, and dirty.
test('downstairs: a close after write, flush, write reports the flush and dirty', (t) => {
  const rig = bootDownstairs();
  const c = running(rig, { ...U1, conn: 'c1' }, 10);
  say(rig, c, { type: 'Write', jobId: 1, extent: 0, block: 0, data: { writeId: 'w1', gen: 10 } });
  say(rig, c, { type: 'Flush', jobId: 2, flushNumber: 3, gen: 10, extentLimit: null });
  say(rig, c, { type: 'Write', jobId: 3, extent: 0, block: 1, data: { writeId: 'w2', gen: 10 } });
  say(rig, c, { type: 'ExtentLiveClose', jobId: 4, extent: 0 });
  t.deepEqual(heard(rig, c).at(-1), { type: 'ExtentLiveCloseAck', jobId: 4, gen: 10, flush: 3, dirty: true });
});
