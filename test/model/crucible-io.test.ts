// Guest IO with clients that cannot take it (model/crucible/upstairs/io.ts), and deactivation with
// clients Offline, as Crucible's upstairs tests drive them (upstairs/src/downstairs.rs and
// dummy_downstairs_tests.rs). Each test names the upstream tests it stands for.
// Departure: Crucible acks a write to the guest at once ("fast ack") and reports failures at the
// next flush; ours acks it when two clients did it, or with an error once it cannot be.

import test from 'ava';
import type { UpstairsReply } from '../../model/crucible/upstairs/control.ts';
import { activeUpstairs, CONTROL, clientStates, expectLast, faultClient, fireTimers, fromDs, toDs, type UpRig } from '../helpers/crucible-rig.ts';

type GuestReply = Extract<UpstairsReply, { type: 'GuestReply' }>;

const guest = (rig: UpRig, request: Record<string, unknown>): void => rig.proc.onMessage!(rig.env, 'guest', request);

function replies(rig: UpRig): Map<string, GuestReply> {
  const out = new Map<string, GuestReply>();
  for (const s of rig.env.sent) {
    const m = s.message as GuestReply;
    if (m.type === 'GuestReply') out.set(m.requestId, m);
  }
  return out;
}

/** The job id the upstairs gave its latest job. */
const lastJob = (rig: UpRig): number => rig.proc.upstairs.nextJobId;

/** Clients that were sent job `jobId`. */
const sentTo = (rig: UpRig, jobId: number): number[] => [0, 1, 2].filter((i) => toDs(rig, i).some((m) => 'jobId' in m && m.jobId === jobId));

/** An Active upstairs with these clients back Faulted (Connecting{Start, Faulted}): they skip everything. */
function withFaulted(...clients: number[]): UpRig {
  const rig = activeUpstairs(1);
  for (const c of clients) faultClient(rig, c);
  return rig;
}

// downstairs.rs write_single_skip and faulted_downstairs_skips_but_still_does_work: one client
// faulted: a write, a read and a flush are skipped on it and done by the other two; all succeed.
test('io: one client faulted: write, read and flush skip it and succeed on the other two', (t) => {
  const rig = withFaulted(0);
  guest(rig, { type: 'GuestWrite', requestId: 'w', extent: 0, block: 0, writeId: 'w1' });
  const w = lastJob(rig);
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 0, block: 0 });
  const r = lastJob(rig);
  guest(rig, { type: 'GuestFlush', requestId: 'f' });
  const f = lastJob(rig);
  for (const id of [w, r, f]) t.deepEqual(sentTo(rig, id), [1, 2], `job ${id} skips client 0`);
  for (const c of [1, 2]) {
    fromDs(rig, c, { type: 'WriteAck', jobId: w });
    fromDs(rig, c, { type: 'ReadResponse', jobId: r, data: { writeId: 'w1', gen: 1 } });
    fromDs(rig, c, { type: 'FlushAck', jobId: f });
  }
  const got = replies(rig);
  t.deepEqual(['w', 'r', 'f'].map((id) => got.get(id)?.ok), [true, true, true]);
  t.deepEqual(got.get('r')?.data, { writeId: 'w1', gen: 1 });
  t.is(rig.proc.upstairs.jobs.size, 0, 'every job done or skipped everywhere is gone');
});

// downstairs.rs write_double_skip and two_faulted_downstairs_can_still_read: two clients
// faulted: a write fails (ours once the third answers; upstream fast-acks it and the error shows
// at the flush), a read is answered by the one left, a flush fails.
test('io: two clients faulted: the write and flush fail, a read still succeeds', (t) => {
  const rig = withFaulted(0, 2);
  guest(rig, { type: 'GuestWrite', requestId: 'w', extent: 1, block: 0, writeId: 'w1' });
  const w = lastJob(rig);
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 1, block: 0 });
  const r = lastJob(rig);
  guest(rig, { type: 'GuestFlush', requestId: 'f' });
  const f = lastJob(rig);
  for (const id of [w, r, f]) t.deepEqual(sentTo(rig, id), [1]);
  fromDs(rig, 1, { type: 'WriteAck', jobId: w });
  fromDs(rig, 1, { type: 'ReadResponse', jobId: r, data: { writeId: 'w1', gen: 1 } });
  fromDs(rig, 1, { type: 'FlushAck', jobId: f });
  const got = replies(rig);
  t.like(got.get('w'), { ok: false });
  t.like(got.get('r'), { ok: true, data: { writeId: 'w1', gen: 1 } });
  t.like(got.get('f'), { ok: false });
});

// downstairs.rs three_faulted_downstairs_read, three_faulted_enqueue_will_handle_read, _write,
// _flush and _many_ios: all three faulted: every job is skipped everywhere and answered at once
// with an error (upstream fast-acks the write; the read and the flush fail).
test('io: all three clients faulted: every job is skipped everywhere and fails at once', (t) => {
  const rig = withFaulted(0, 1, 2);
  t.deepEqual(clientStates(rig), ['Connecting{Start, Faulted}', 'Connecting{Start, Faulted}', 'Connecting{Start, Faulted}']);
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 0, block: 0 });
  guest(rig, { type: 'GuestWrite', requestId: 'w', extent: 0, block: 0, writeId: 'w1' });
  guest(rig, { type: 'GuestFlush', requestId: 'f' });
  const got = replies(rig);
  t.deepEqual(['r', 'w', 'f'].map((id) => got.get(id)?.ok), [false, false, false]);
  t.is(rig.proc.upstairs.jobs.size, 0);
  t.deepEqual([1, 2, 3].map((id) => sentTo(rig, id)), [[], [], []]);
});

// downstairs.rs read_after_write_fail_is_alright, write_fail_skips_new_jobs,
// write_fail_skips_inprogress_jobs, write_fail_past_present_future: ours faults a client on a lost
// connection, not a write error (not modelled), but the effect is the same: the jobs it had in
// progress become skipped for it (past jobs stay done), and later jobs skip it.
test('io: a client faulted with jobs in progress: they are skipped for it, done ones stay done, later ones skip it', (t) => {
  const rig = activeUpstairs(1);
  guest(rig, { type: 'GuestWrite', requestId: 'done', extent: 0, block: 0, writeId: 'w1' });
  const done = lastJob(rig);
  fromDs(rig, 0, { type: 'WriteAck', jobId: done });
  guest(rig, { type: 'GuestRead', requestId: 'pending', extent: 0, block: 0 });
  const pending = lastJob(rig);
  // Client 0's connection breaks and renegotiation fails: Faulted, its jobs skipped.
  faultClient(rig, 0);
  const up = rig.proc.upstairs;
  t.true(up.jobs.get(done)!.done.has(0), 'the write it did stays done');
  t.true(up.jobs.get(pending)!.skipped.has(0), 'the read it had in progress is skipped for it');
  guest(rig, { type: 'GuestRead', requestId: 'later', extent: 0, block: 0 });
  t.deepEqual(sentTo(rig, lastJob(rig)), [1, 2]);
  fromDs(rig, 1, { type: 'ReadResponse', jobId: pending, data: { writeId: 'w1', gen: 1 } });
  t.like(replies(rig).get('pending'), { ok: true });
});

// dummy_downstairs_tests.rs test_offline_can_deactivate: one client Offline (its connection
// lost), nothing outstanding: a deactivation ends (the Offline client is stopped, not awaited).
test('deactivate: with one client Offline and no IO, it completes', (t) => {
  const rig = activeUpstairs(1);
  fromDs(rig, 0, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[0], 'Connecting{Start, Offline}');
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd' });
  for (const c of [1, 2]) fromDs(rig, c, { type: 'FlushAck', jobId: expectLast(rig, c, 'Flush').jobId });
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.is(rig.proc.upstairs.state.kind, 'Initializing');
  t.like(rig.env.sent.at(-1)!.message as object, { type: 'DeactivateReply', requestId: 'd', ok: true });
});

// dummy_downstairs_tests.rs test_offline_with_io_can_deactivate: one client Offline with a read
// outstanding: the final flush goes to the other two; when they ack, deactivation completes.
test('deactivate: with one client Offline and a read outstanding, the final flush goes to the others and it completes', (t) => {
  const rig = activeUpstairs(1);
  fromDs(rig, 0, { type: 'Closed', reason: 'connection reset' });
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 0, block: 0 });
  const read = lastJob(rig);
  t.deepEqual(sentTo(rig, read), [1, 2]);
  fromDs(rig, 1, { type: 'ReadResponse', jobId: read, data: null });
  fromDs(rig, 2, { type: 'ReadResponse', jobId: read, data: null });
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd' });
  const flush = lastJob(rig);
  t.deepEqual(sentTo(rig, flush), [1, 2]);
  for (const c of [1, 2]) fromDs(rig, c, { type: 'FlushAck', jobId: flush });
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.is(rig.proc.upstairs.state.kind, 'Initializing');
  t.like(replies(rig).get('r'), { ok: true });
});

// dummy_downstairs_tests.rs test_all_offline_with_io_can_deactivate: all three Offline, a read
// issued, then a deactivation: the read fails and the deactivation succeeds.
test('deactivate: with all three Offline, a read fails and the deactivation succeeds', (t) => {
  const rig = activeUpstairs(1);
  for (const c of [0, 1, 2]) fromDs(rig, c, { type: 'Closed', reason: 'connection reset' });
  guest(rig, { type: 'GuestRead', requestId: 'r', extent: 0, block: 0 });
  t.is(replies(rig).get('r'), undefined, 'held for the Offline clients');
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd' });
  t.like(replies(rig).get('r'), { ok: false });
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.is(rig.proc.upstairs.state.kind, 'Initializing');
  t.like(rig.env.sent.at(-1)!.message as object, { type: 'DeactivateReply', requestId: 'd', ok: true });
});

// dummy_downstairs_tests.rs test_deactivate_slow (in part): while deactivating, an activation is
// refused (UpstairsDeactivating); once Initializing, one succeeds and reconnects.
test('deactivate: an activation while deactivating is refused; after it, one is taken', (t) => {
  const rig = activeUpstairs(1);
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd' });
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'GoActiveWithGen', requestId: 'a2', gen: 2 });
  t.like(rig.env.sent.at(-1)!.message as object, { type: 'ActivationReply', requestId: 'a2', ok: false, error: 'UpstairsDeactivating' });
  const flush = lastJob(rig);
  for (const c of [0, 1, 2]) fromDs(rig, c, { type: 'FlushAck', jobId: flush });
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'GoActiveWithGen', requestId: 'a3', gen: 2 });
  t.like(rig.proc.upstairs.state, { kind: 'GoActive' });
  for (const c of [0, 1, 2]) expectLast(rig, c, 'HereIAm');
});
