// The Crucible negotiation model, message by message, as Crucible's own unit tests drive it: one
// node booted by hand on a fake Env, fed frames, and checked on what it sent and on its state
// (the rigs: test/helpers/crucible-rig.ts).
// Downstairs: the PromoteToActive generation rules (downstairs/src/lib.rs `promote_to_active`).
// Upstairs: activation, collation refusals and the paths into Disabled (upstairs.rs
// `set_disabled`, crucible#1721).

import test from 'ava';
import { ProtocolPanic } from '../../model/assert.ts';
import { CRUCIBLE_VERSION, type DownstairsMessage } from '../../model/crucible/protocol.ts';
import type { UpstairsReply } from '../../model/crucible/upstairs/control.ts';
import { upstairs, type UpstairsProcess } from '../../model/crucible/upstairs/node.ts';
import { U1, U2, REGION, DOWNSTAIRS, CONTROL, fakeEnv, fireTimers, pendingTimers, bootDownstairs, hereIAm, say, promote, running, heard, types, activeConns, type UpRig, bootUpstairs, goActiveWithGen, fromDs, toDs, expectLast, versions, negotiate, negotiateAll, activationReplies, clientStates, hereIAms, STOPPED, PARKED, ALL_ACTIVE, activeUpstairs, reconcilingRig } from '../helpers/crucible-rig.ts';

// ---------------------------------------------------------------------------------------------
// Downstairs: PromoteToActive generation rules (read-write region).

test('downstairs: the first upstairs at gen 1 is promoted and is the active one', (t) => {
  const rig = bootDownstairs();
  const a = promote(rig, { ...U1, conn: 'c1' }, 1);
  t.deepEqual(heard(rig, a), [
    { type: 'YesItsMe', version: CRUCIBLE_VERSION },
    { type: 'YouAreNowActive', upstairsId: 'upstairs-1', sessionId: 'session-1', gen: 1 },
  ]);
  t.deepEqual(activeConns(rig), ['c1']);
  t.is(rig.ds.connections.get('c1')?.state, 'PromotedToActive');
  t.is(rig.ds.connections.get('c1')?.gen, 1);
});

test('downstairs: another upstairs at a lower generation is refused by closing its connection', (t) => {
  const rig = bootDownstairs();
  promote(rig, { ...U1, conn: 'c1' }, 2);
  const b = promote(rig, { ...U2, conn: 'c2' }, 1);
  const msgs = heard(rig, b);
  t.deepEqual(types(msgs), ['YesItsMe', 'Closed']);
  t.regex((msgs[1] as { reason: string }).reason, /generation 1 below/);
  t.deepEqual(activeConns(rig), ['c1'], 'the gen-2 upstairs is still the active one');
  t.false(rig.ds.connections.has('c2'));
});

test('downstairs: an equal generation from another session is refused', (t) => {
  const rig = bootDownstairs();
  const a = promote(rig, { ...U1, conn: 'c1' }, 1);
  const b = promote(rig, { ...U2, conn: 'c2' }, 1);
  const msgs = heard(rig, b);
  t.deepEqual(types(msgs), ['YesItsMe', 'Closed']);
  t.regex((msgs[1] as { reason: string }).reason, /already active for another session/);
  t.deepEqual(activeConns(rig), ['c1']);
  t.deepEqual(types(heard(rig, a)), ['YesItsMe', 'YouAreNowActive'], 'the active one is not disturbed');
});

test('downstairs: with crucible/accept-equal-generation an equal generation from another session is accepted too', (t) => {
  const rig = bootDownstairs({ bugs: ['crucible/accept-equal-generation'] });
  const a = promote(rig, { ...U1, conn: 'c1' }, 1);
  const b = promote(rig, { ...U2, conn: 'c2' }, 1);
  t.deepEqual(heard(rig, b), [
    { type: 'YesItsMe', version: CRUCIBLE_VERSION },
    { type: 'YouAreNowActive', upstairsId: 'upstairs-2', sessionId: 'session-2', gen: 1 },
  ]);
  t.deepEqual(activeConns(rig).sort(), ['c1', 'c2'], 'split brain: two active connections at gen 1');
  t.deepEqual(types(heard(rig, a)), ['YesItsMe', 'YouAreNowActive'], 'the first one is not told');
});

test('downstairs: the same session reconnecting on a new connection is accepted and replaces the old one', (t) => {
  const rig = bootDownstairs();
  const a = running(rig, { ...U1, conn: 'c1' }, 1);
  const again = promote(rig, { ...U1, conn: 'c1b' }, 1);
  t.deepEqual(heard(rig, again), [
    { type: 'YesItsMe', version: CRUCIBLE_VERSION },
    { type: 'YouAreNowActive', upstairsId: 'upstairs-1', sessionId: 'session-1', gen: 1 },
  ]);
  t.deepEqual(activeConns(rig), ['c1b']);
  t.false(rig.ds.connections.has('c1'), 'the given-up connection is gone');
  t.deepEqual(types(heard(rig, a)), ['YesItsMe', 'YouAreNowActive', 'RegionInfo', 'ExtentVersions'], 'nothing more on the old connection (no YouAreNoLongerActive)');
});

test('downstairs: a higher generation takes over; the old connection is told and its later IO does not run', (t) => {
  const rig = bootDownstairs();
  const a = running(rig, { ...U1, conn: 'c1' }, 1);
  say(rig, a, { type: 'Write', jobId: 1, extent: 0, block: 0, data: { writeId: 'w-before', gen: 1 } });
  t.deepEqual(heard(rig, a).at(-1), { type: 'WriteAck', jobId: 1 }, 'the old upstairs could write while active');

  const b = promote(rig, { ...U2, conn: 'c2' }, 2);
  t.deepEqual(heard(rig, a).at(-1), { type: 'YouAreNoLongerActive', newUpstairsId: 'upstairs-2', newSessionId: 'session-2', newGen: 2 });
  t.deepEqual(types(heard(rig, b)), ['YesItsMe', 'YouAreNowActive']);
  t.deepEqual(activeConns(rig), ['c2']);

  say(rig, a, { type: 'Write', jobId: 2, extent: 0, block: 1, data: { writeId: 'w-after', gen: 1 } });
  say(rig, a, { type: 'Write', jobId: 3, extent: 0, block: 0, data: { writeId: 'w-after-2', gen: 1 } });
  t.deepEqual(types(heard(rig, a)), ['YesItsMe', 'YouAreNowActive', 'RegionInfo', 'ExtentVersions', 'WriteAck', 'YouAreNoLongerActive'], 'no WriteAck after the takeover');
  t.is(rig.ds.region.extents[0]!.blocks[1], null);
  t.deepEqual(rig.ds.region.extents[0]!.blocks[0], { writeId: 'w-before', gen: 1 });
});

test('downstairs: after a gen-2 takeover and its connection dying, gen 1 is still refused', (t) => {
  const rig = bootDownstairs();
  promote(rig, { ...U1, conn: 'c1' }, 1);
  promote(rig, { ...U2, conn: 'c2' }, 2);
  // The gen-2 upstairs falls silent: the idle check drops its connection, leaving nobody active.
  rig.env.setNow(3_001);
  t.is(fireTimers(rig.env, rig.ds, 'IdleCheck'), 1);
  t.is(rig.ds.connections.size, 0);
  t.deepEqual(activeConns(rig), []);

  const back = promote(rig, { ...U1, conn: 'c1b' }, 1);
  const msgs = heard(rig, back);
  t.deepEqual(types(msgs), ['YesItsMe', 'Closed']);
  t.regex((msgs[1] as { reason: string }).reason, /generation 1 below 2, promoted before/);
  t.deepEqual(activeConns(rig), []);

  // Gen 2 itself (the highest promoted) may come back.
  const gen2 = promote(rig, { ...U2, conn: 'c2b' }, 2);
  t.deepEqual(types(heard(rig, gen2)), ['YesItsMe', 'YouAreNowActive']);
  t.deepEqual(activeConns(rig), ['c2b']);
});

for (const [what, ids] of [
  ['session id', { upstairsId: 'upstairs-1', sessionId: 'session-other' }],
  ['upstairs id', { upstairsId: 'upstairs-other', sessionId: 'session-1' }],
] as const) {
  test(`downstairs: PromoteToActive with another ${what} than HereIAm gets UuidMismatch, then the connection is closed`, (t) => {
    const rig = bootDownstairs();
    const a = hereIAm(rig, { ...U1, conn: 'c1' }, 1);
    say(rig, a, { type: 'PromoteToActive', ...ids, gen: 1 });
    const msgs = heard(rig, a);
    t.deepEqual(msgs.slice(0, 2), [
      { type: 'YesItsMe', version: CRUCIBLE_VERSION },
      { type: 'UuidMismatch', expected: 'upstairs-1' },
    ]);
    t.deepEqual(types(msgs), ['YesItsMe', 'UuidMismatch', 'Closed']);
    t.false(rig.ds.connections.has('c1'));
    t.deepEqual(activeConns(rig), []);
  });
}

test('downstairs: a read-only region promotes every upstairs, whatever the generations, and tracks none as active', (t) => {
  const rig = bootDownstairs({ readOnly: true });
  const a = running(rig, { ...U1, conn: 'c1' }, 2, true);
  const b = running(rig, { ...U2, conn: 'c2' }, 1, true); // lower than a's: no matter for read-only
  t.deepEqual(types(heard(rig, a)), ['YesItsMe', 'YouAreNowActive', 'RegionInfo', 'ExtentVersions']);
  t.deepEqual(types(heard(rig, b)), ['YesItsMe', 'YouAreNowActive', 'RegionInfo', 'ExtentVersions']);
  t.deepEqual(activeConns(rig), [], 'active() lists writers of a read-write region only');
  t.is(rig.ds.connections.get('c1')?.state, 'Running');
  t.is(rig.ds.connections.get('c2')?.state, 'Running');
  // Both may read.
  say(rig, a, { type: 'Read', jobId: 1, extent: 0, block: 0 });
  say(rig, b, { type: 'Read', jobId: 1, extent: 0, block: 0 });
  t.deepEqual(heard(rig, a).at(-1), { type: 'ReadResponse', jobId: 1, data: null });
  t.deepEqual(heard(rig, b).at(-1), { type: 'ReadResponse', jobId: 1, data: null });
});

// ---------------------------------------------------------------------------------------------
// Upstairs: activation.

test('upstairs: GoActiveWithGen at gen 0 is refused at collation: one GenerationZeroIsIllegal reply, Disabled', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 0);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'GoActive', requestId: 'r1' });
  t.deepEqual(clientStates(rig), ['Connecting{Start, New}', 'Connecting{Start, New}', 'Connecting{Start, New}']);
  negotiate(rig, 0, versions(0, 0));
  negotiate(rig, 1, versions(0, 0));
  t.deepEqual(activationReplies(rig), [], 'no answer before all three are in WaitQuorum');
  t.is(expectLast(rig, 2, 'HereIAm').gen, 0);
  t.deepEqual(types(toDs(rig, 0)), ['HereIAm', 'PromoteToActive', 'RegionInfoPlease', 'ExtentVersionsPlease']);
  t.is(toDs(rig, 0).find((m) => m.type === 'PromoteToActive')?.gen, 0, 'gen 0 is promoted: only collation refuses it');
  negotiate(rig, 2, versions(0, 0));

  t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: false, error: 'GenerationZeroIsIllegal' }]);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Disabled', reason: 'GenerationZeroIsIllegal' });
  t.deepEqual(clientStates(rig), STOPPED);

  // The stopped tasks end: the clients park in WaitConnect and do not reconnect.
  const before = hereIAms(rig);
  t.is(fireTimers(rig.env, rig.proc, 'TaskStopped'), 3);
  t.deepEqual(clientStates(rig), PARKED);
  t.is(pendingTimers(rig.env, 'Reconnect'), 0);
  t.is(hereIAms(rig), before);
  t.is(activationReplies(rig).length, 1, 'still exactly one reply');
  t.is(rig.proc.upstairs.answered.get('r1'), 1);
});

for (const gen of [2, 3]) {
  test(`upstairs: GoActiveWithGen(${gen}) over extents stored at gen 3 is GenerationNumberTooLow, Disabled`, (t) => {
    const rig = bootUpstairs();
    goActiveWithGen(rig, 'r1', gen);
    negotiateAll(rig, versions(3, 5));
    t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: false, error: 'GenerationNumberTooLow' }]);
    t.deepEqual(rig.proc.upstairs.state, { kind: 'Disabled', reason: 'GenerationNumberTooLow' });
    t.deepEqual(clientStates(rig), STOPPED);
    fireTimers(rig.env, rig.proc, 'TaskStopped');
    t.deepEqual(clientStates(rig), PARKED);
    t.is(activationReplies(rig).length, 1);
  });
}

test('upstairs: GoActiveWithGen(4) over extents stored at gen 3 (max_gen = 4) reaches Active', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 4);
  negotiateAll(rig, versions(3, 5));
  t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: true, error: null }]);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Active' });
  t.is(rig.proc.upstairs.nextFlush, 5, 'nothing to reconcile: next_flush is the highest stored');
});

test('upstairs: a valid activation over matching extents reaches Active and replies ok exactly once', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 1);
  negotiateAll(rig, versions(0, 0));
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Active' });
  t.deepEqual(clientStates(rig), ALL_ACTIVE);
  t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: true, error: null }]);
  // Keep-alive traffic afterwards does not answer again; a repeat of the same activation gets its own ok.
  fromDs(rig, 0, { type: 'Imok' });
  t.is(activationReplies(rig).length, 1);
  goActiveWithGen(rig, 'r2', 1);
  t.deepEqual(activationReplies(rig).map((r) => [r.requestId, r.ok]), [['r1', true], ['r2', true]]);
  t.is(rig.proc.upstairs.answered.get('r1'), 1);
});

test('upstairs: a valid activation over differing extents replies ok only after reconciliation', (t) => {
  // Client 0 holds extent 0 flushed at (gen 1, flush 1); the others never saw it.
  const rig = reconcilingRig();
  t.deepEqual(clientStates(rig), ['Connecting{Reconcile, New}', 'Connecting{Reconcile, New}', 'Connecting{Reconcile, New}']);
  const flush = expectLast(rig, 0, 'ExtentFlush');
  t.like(flush, { extent: 0, flushNumber: 2, gen: 2 }, 'the source is flushed at (max_flush, max_gen)');
  t.deepEqual(activationReplies(rig), []);

  fromDs(rig, 0, { type: 'RepairAckId', repairId: flush.repairId });
  // mend.rs / downstairs.rs: per extent fixed, flush the source, close on all, repair, reopen on all.
  const close = expectLast(rig, 0, 'ExtentClose');
  for (const i of [0, 1, 2]) t.like(expectLast(rig, i, 'ExtentClose'), { extent: 0, repairId: close.repairId });
  for (const i of [0, 1, 2]) fromDs(rig, i, { type: 'RepairAckId', repairId: close.repairId });
  const r1 = expectLast(rig, 1, 'ExtentRepair');
  const r2 = expectLast(rig, 2, 'ExtentRepair');
  t.like(r1, { extent: 0, source: 'ds-1' });
  t.is(r2.repairId, r1.repairId);
  t.is(toDs(rig, 0).at(-1)?.type, 'ExtentClose', 'the source is no destination');
  fromDs(rig, 1, { type: 'RepairAckId', repairId: r1.repairId });
  t.deepEqual(activationReplies(rig), [], 'still waiting for client 2');
  fromDs(rig, 2, { type: 'RepairAckId', repairId: r2.repairId });
  const reopen = expectLast(rig, 1, 'ExtentReopen');
  for (const i of [0, 1, 2]) fromDs(rig, i, { type: 'RepairAckId', repairId: reopen.repairId });

  t.deepEqual(rig.proc.upstairs.state, { kind: 'Active' });
  t.deepEqual(clientStates(rig), ALL_ACTIVE);
  t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: true, error: null }]);
  t.is(rig.proc.upstairs.nextFlush, 2);
});

// ---------------------------------------------------------------------------------------------
// Upstairs: paths into Disabled (crucible#1721) and the planted pre-#1721 behaviour.

const TAKEN_OVER: DownstairsMessage = { type: 'YouAreNoLongerActive', newUpstairsId: 'upstairs-2', newSessionId: 'session-2', newGen: 2 };

test('upstairs: YouAreNoLongerActive while Active disables the upstairs and stops all three clients', (t) => {
  const rig = activeUpstairs(1);
  fromDs(rig, 1, TAKEN_OVER);
  const s = rig.proc.upstairs.state;
  t.is(s.kind, 'Disabled');
  t.regex(s.kind === 'Disabled' ? s.reason : '', /YouAreNoLongerActive: generation 2 took over/);
  t.deepEqual(clientStates(rig), STOPPED);
  t.true(rig.proc.upstairs.clients.every((c) => c.conn === null), 'every connection given up');
  t.is(activationReplies(rig).length, 1, 'only the earlier ok: nothing was pending');

  const before = hereIAms(rig);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), PARKED);
  t.is(pendingTimers(rig.env, 'Reconnect'), 0, 'Disabled does not reconnect');
  t.is(hereIAms(rig), before);
});

test('upstairs: with crucible/disable-one-client only the told client stops and the upstairs goes back to Initializing', (t) => {
  const rig = activeUpstairs(1, ['crucible/disable-one-client']);
  fromDs(rig, 1, TAKEN_OVER);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Initializing' });
  t.deepEqual(clientStates(rig), ['Active', 'Stopping(Disabled)', 'Active']);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), ['Active', 'Connecting{WaitConnect, New}', 'Active'], 'two clients still Active under an Initializing upstairs (C-B1)');
  t.not(rig.proc.upstairs.clients[0]!.conn, null);
  t.not(rig.proc.upstairs.clients[2]!.conn, null);
});

test('upstairs: with crucible/disable-one-client a later activation finds Active clients and panics', (t) => {
  // Not asked by the brief: documents where the planted state leads (a ProtocolPanic, C-I6).
  const rig = activeUpstairs(1, ['crucible/disable-one-client']);
  fromDs(rig, 1, TAKEN_OVER);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.throws(() => goActiveWithGen(rig, 'r2', 3), { instanceOf: ProtocolPanic, message: /GoActive with client 0 Active/ });
});

/** GoActive at gen 1; client 0 promoted (now WaitForRegionInfo), then told another took over. */
function takenOverMidNegotiation(bugs: readonly string[]): UpRig {
  const rig = bootUpstairs(bugs);
  goActiveWithGen(rig, 'r1', 1);
  fromDs(rig, 0, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
  fromDs(rig, 0, { type: 'YouAreNowActive', upstairsId: 'upstairs-1', sessionId: rig.proc.upstairs.sessionId, gen: 1 });
  expectLast(rig, 0, 'RegionInfoPlease');
  fromDs(rig, 0, TAKEN_OVER);
  return rig;
}

test('upstairs: a pending GoActive is answered with the error exactly once when YouAreNoLongerActive arrives mid-negotiation', (t) => {
  const rig = takenOverMidNegotiation([]);
  const replies = activationReplies(rig);
  t.is(replies.length, 1);
  t.like(replies[0], { type: 'ActivationReply', requestId: 'r1', ok: false });
  t.regex(replies[0]!.type === 'ActivationReply' ? (replies[0]!.error ?? '') : '', /YouAreNoLongerActive/);
  t.is(rig.proc.upstairs.state.kind, 'Disabled');
  t.deepEqual(clientStates(rig), STOPPED, 'the two clients still in Start are stopped too');
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), PARKED);
  t.is(activationReplies(rig).length, 1);
  t.is(rig.proc.upstairs.answered.get('r1'), 1);
});

test('upstairs: with crucible/disable-one-client the pending GoActive is never answered', (t) => {
  const rig = takenOverMidNegotiation(['crucible/disable-one-client']);
  t.deepEqual(activationReplies(rig), []);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Initializing' });
  t.deepEqual(clientStates(rig), ['Stopping(Disabled)', 'Connecting{Start, New}', 'Connecting{Start, New}']);
  // The other two finish negotiating: no collation without GoActive, so still no answer.
  negotiate(rig, 1, versions(0, 0));
  negotiate(rig, 2, versions(0, 0));
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), ['Connecting{WaitConnect, New}', 'Connecting{WaitQuorum, New}', 'Connecting{WaitQuorum, New}']);
  t.deepEqual(activationReplies(rig), []);
  t.false(rig.proc.upstairs.answered.has('r1'));
});

test('upstairs: after Disabled, a new GoActiveWithGen at a higher gen leaves Disabled and reconnects at that gen', (t) => {
  const rig = activeUpstairs(1);
  fromDs(rig, 1, TAKEN_OVER);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), PARKED);
  const before = hereIAms(rig);

  goActiveWithGen(rig, 'r2', 3);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'GoActive', requestId: 'r2' });
  t.is(rig.proc.upstairs.gen, 3);
  t.deepEqual(clientStates(rig), ['Connecting{Start, New}', 'Connecting{Start, New}', 'Connecting{Start, New}']);
  t.is(hereIAms(rig), before + 3);
  for (let i = 0; i < 3; i++) t.like(expectLast(rig, i, 'HereIAm'), { gen: 3 });

  // Extents written at gen 1 and gen 2 by now: gen 3 is above them.
  negotiateAll(rig, versions(2, 4));
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Active' });
  t.deepEqual(activationReplies(rig).map((r) => [r.requestId, r.ok]), [['r1', true], ['r2', true]]);
});

test('upstairs: a new activation arriving while the disabled clients are still stopping waits for them, then reconnects', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 0);
  negotiateAll(rig, versions(0, 0));
  t.deepEqual(clientStates(rig), STOPPED);

  goActiveWithGen(rig, 'r2', 1);
  t.deepEqual(rig.proc.upstairs.state, { kind: 'GoActive', requestId: 'r2' });
  t.deepEqual(clientStates(rig), STOPPED, 'nothing to connect until the tasks have stopped');
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), ['Connecting{Start, New}', 'Connecting{Start, New}', 'Connecting{Start, New}']);
  t.is(fireTimers(rig.env, rig.proc, 'Reconnect'), 3);
  for (let i = 0; i < 3; i++) t.like(expectLast(rig, i, 'HereIAm'), { gen: 1 });
  negotiateAll(rig, versions(0, 0));
  t.deepEqual(rig.proc.upstairs.state, { kind: 'Active' });
  t.deepEqual(activationReplies(rig).map((r) => [r.requestId, r.ok, r.type === 'ActivationReply' ? r.error : null]), [
    ['r1', false, 'GenerationZeroIsIllegal'],
    ['r2', true, null],
  ]);
});

// replace(old, new) (upstairs/src/downstairs.rs `replace`), in the order its checks run.

type ReplaceReply = Extract<UpstairsReply, { type: 'ReplaceReply' }>;

function replace(rig: UpRig, requestId: string, old: string, replacement: string): ReplaceReply {
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Replace', requestId, old, new: replacement });
  const reply = rig.env.sent.at(-1)!.message as ReplaceReply;
  if (reply.type !== 'ReplaceReply' || reply.requestId !== requestId) throw new Error(`no reply to ${requestId}`);
  return reply;
}

function activeRig(bugs: readonly string[] = []): UpRig {
  const rig = bootUpstairs(bugs);
  goActiveWithGen(rig, 'r1', 1);
  negotiateAll(rig, versions(0, 0));
  return rig;
}

test('replace: while Active, the old target stops with Replacing and comes back as Replaced at the new address', (t) => {
  const rig = activeRig();
  t.is(replace(rig, 'x1', 'ds-1', 'ds-4').result, 'Started');
  t.deepEqual(clientStates(rig), ['Stopping(Replacing)', 'Active', 'Active']);
  t.is(rig.proc.upstairs.clients[0]!.address, 'ds-4');
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), ['Connecting{Start, Replaced}', 'Active', 'Active']);
});

test('replace: asked again, it is StartedAlready while under way; the same old target again is Missing', (t) => {
  const rig = activeRig();
  replace(rig, 'x1', 'ds-1', 'ds-4');
  t.is(replace(rig, 'x2', 'ds-1', 'ds-4').result, 'StartedAlready');
  t.is(replace(rig, 'x3', 'ds-9', 'ds-8').result, 'Missing');
});

test('replace: both addresses already targets is invalid; a second replacement while one is under way is invalid', (t) => {
  const rig = activeRig();
  t.is(replace(rig, 'x1', 'ds-1', 'ds-2').result, 'Invalid');
  replace(rig, 'x2', 'ds-1', 'ds-4');
  const second = replace(rig, 'x3', 'ds-2', 'ds-5');
  t.is(second.result, 'Invalid');
  t.regex(second.why, /client 0/);
  t.is(rig.proc.upstairs.clients[1]!.address, 'ds-2');
});

test('replace: once the new target is a settled client, asking again is CompletedAlready', (t) => {
  const rig = bootUpstairs();
  t.is(replace(rig, 'x1', 'ds-1', 'ds-4').result, 'Started');
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), ['Connecting{WaitConnect, New}', 'Connecting{WaitConnect, New}', 'Connecting{WaitConnect, New}']);
  t.is(replace(rig, 'x2', 'ds-1', 'ds-4').result, 'CompletedAlready');
});

test('replace while Initializing, then GoActive before the task stopped: the fixed upstairs waits for it', (t) => {
  const rig = bootUpstairs();
  replace(rig, 'x1', 'ds-1', 'ds-4');
  goActiveWithGen(rig, 'r1', 1);
  t.deepEqual(clientStates(rig), ['Stopping(Replacing)', 'Connecting{Start, New}', 'Connecting{Start, New}']);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  fireTimers(rig.env, rig.proc, 'Reconnect');
  t.is(rig.env.sent.filter((s) => s.to === 'ds-4').length, 1, 'the replaced client connects to the new address');
});

test('replace while Initializing, then GoActive before the task stopped: with crucible/replace-while-initializing it panics', (t) => {
  const rig = bootUpstairs(['crucible/replace-while-initializing']);
  replace(rig, 'x1', 'ds-1', 'ds-4');
  t.throws(() => goActiveWithGen(rig, 'r1', 1), { message: /Stopping\(Replacing\).*1716/ });
});

test('replace: the new target survives a restart (the durable VCR)', (t) => {
  const env = fakeEnv('upstairs-a');
  const def = upstairs({ id: 'upstairs-a', upstairsId: 'upstairs-1', downstairs: DOWNSTAIRS, region: REGION, keepAliveMs: 300, deadAfterMs: 1_200, holdMax: 30, control: CONTROL }, new Set());
  const durable = def.initDurable();
  const first = def.boot(env, durable) as UpstairsProcess;
  first.onMessage!(env, CONTROL, { type: 'Replace', requestId: 'x1', old: 'ds-2', new: 'ds-5' });
  const again = def.boot(env, durable) as UpstairsProcess;
  t.deepEqual(again.upstairs.clients.map((c) => c.address), ['ds-1', 'ds-5', 'ds-3']);
});

// Deactivation: only from Active; a final flush; clients stop once done; then Initializing.

test('deactivate: refused unless Active; from Active, a final flush, then every client parked and one ok', (t) => {
  const rig = bootUpstairs();
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd0' });
  t.like(rig.env.sent.at(-1)!.message as object, { type: 'DeactivateReply', requestId: 'd0', ok: false, error: 'UpstairsInactive' });
  goActiveWithGen(rig, 'r1', 1);
  negotiateAll(rig, versions(0, 0));
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'Deactivate', requestId: 'd1' });
  t.is(rig.proc.upstairs.state.kind, 'Deactivating');
  t.deepEqual(clientStates(rig), ALL_ACTIVE, 'clients stay until their final flush is done');
  for (let i = 0; i < 3; i++) {
    const flush = expectLast(rig, i, 'Flush');
    fromDs(rig, i, { type: 'FlushAck', jobId: flush.jobId });
  }
  t.deepEqual(clientStates(rig), ['Stopping(Deactivated)', 'Stopping(Deactivated)', 'Stopping(Deactivated)']);
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.deepEqual(clientStates(rig), PARKED);
  t.is(rig.proc.upstairs.state.kind, 'Initializing');
  const replies = rig.env.sent.filter((s) => (s.message as { type: string }).type === 'DeactivateReply').map((s) => s.message);
  t.deepEqual(replies.at(-1), { type: 'DeactivateReply', requestId: 'd1', ok: true, error: null });
  t.is(rig.proc.upstairs.answered.get('d1'), 1);
});

// The other paths into Disabled (#1721): UuidMismatch, and a YouAreNowActive for another session.

test('upstairs: a UuidMismatch during negotiation disables the upstairs, answers the pending GoActive once, stops every client', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 1);
  fromDs(rig, 0, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
  fromDs(rig, 0, { type: 'UuidMismatch', expected: 'upstairs-9' });
  t.like(rig.proc.upstairs.state, { kind: 'Disabled', reason: 'UuidMismatch' });
  t.deepEqual(activationReplies(rig), [{ type: 'ActivationReply', requestId: 'r1', ok: false, error: 'UuidMismatch' }]);
  t.deepEqual(clientStates(rig), STOPPED);
});

test('upstairs: a YouAreNowActive naming another session or generation is IncompatibleSession: Disabled', (t) => {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 1);
  fromDs(rig, 2, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
  const p = expectLast(rig, 2, 'PromoteToActive');
  fromDs(rig, 2, { type: 'YouAreNowActive', upstairsId: p.upstairsId, sessionId: p.sessionId, gen: p.gen + 1 });
  t.like(rig.proc.upstairs.state, { kind: 'Disabled', reason: 'IncompatibleSession' });
  t.is(activationReplies(rig).length, 1);
  t.deepEqual(clientStates(rig), STOPPED);
});

// dummy_downstairs_tests.rs test_replay_occurs, test_write_replay and test_no_send_offline: an
// Active client whose connection drops comes back Offline; after RegionInfo it is told the last
// flush and is Active at once, and the jobs it had not done are sent again with their job ids,
// with no ExtentVersionsPlease and no answer awaited (client.rs; LastFlushAck is gone since
// message version 13).
test('upstairs: an Offline client back gets LastFlush, then its unfinished jobs replayed with their ids, Active at once', (t) => {
  const rig = activeUpstairs(1);
  t.deepEqual(clientStates(rig), ALL_ACTIVE);
  rig.proc.onMessage!(rig.env, 'guest', { type: 'GuestWrite', requestId: 'g1', extent: 0, block: 0, writeId: 'w1' });
  const write = expectLast(rig, 1, 'Write');
  fromDs(rig, 1, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[1], 'Connecting{Start, Offline}');
  t.is(fireTimers(rig.env, rig.proc, 'Reconnect'), 1);
  expectLast(rig, 1, 'HereIAm');
  fromDs(rig, 1, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
  const p = expectLast(rig, 1, 'PromoteToActive');
  fromDs(rig, 1, { type: 'YouAreNowActive', upstairsId: p.upstairsId, sessionId: p.sessionId, gen: p.gen });
  fromDs(rig, 1, { type: 'RegionInfo', region: REGION });
  const after = toDs(rig, 1).slice(-2);
  t.deepEqual(after.map((m) => m.type), ['LastFlush', 'Write']);
  t.is((after[1] as typeof write).jobId, write.jobId, 'the same job id');
  const sinceReconnect = toDs(rig, 1).slice(toDs(rig, 1).lastIndexOf(toDs(rig, 1).findLast((m) => m.type === 'HereIAm')!));
  t.deepEqual(sinceReconnect.map((m) => m.type), ['HereIAm', 'PromoteToActive', 'RegionInfoPlease', 'LastFlush', 'Write']);
  t.deepEqual(clientStates(rig), ALL_ACTIVE);
});

// client.rs NegotiationError -> ClientNegotiationFailed and upstairs.rs: IncompatibleVersion is
// retried (the rack may be mid-update), IncompatibleSettings (a read-only mismatch) disables.
test('upstairs: a ReadOnlyMismatch disables the upstairs (IncompatibleSettings); a VersionMismatch only stops the client, to retry', (t) => {
  const settings = bootUpstairs();
  goActiveWithGen(settings, 'r1', 1);
  fromDs(settings, 0, { type: 'ReadOnlyMismatch' });
  t.like(settings.proc.upstairs.state, { kind: 'Disabled', reason: 'IncompatibleSettings' });
  t.deepEqual(clientStates(settings), STOPPED);

  const version = bootUpstairs();
  goActiveWithGen(version, 'r1', 1);
  fromDs(version, 0, { type: 'VersionMismatch', version: CRUCIBLE_VERSION + 1 });
  t.like(version.proc.upstairs.state, { kind: 'GoActive' });
  t.is(clientStates(version)[0], 'Stopping(NegotiationFailed)');
});

// dummy_downstairs_tests.rs test_job_fault_condition_offline: an Offline client's held jobs
// passing the limit fault it at once (Stopping(Fault), then back as Faulted, for live repair),
// instead of waiting to see it come back.
test('upstairs: an Offline client whose held jobs pass the limit is Faulted at once', (t) => {
  const rig = activeUpstairs(1);
  fromDs(rig, 1, { type: 'Closed', reason: 'connection reset' });
  t.is(clientStates(rig)[1], 'Connecting{Start, Offline}');
  for (let i = 0; i < 30; i++) rig.proc.onMessage!(rig.env, 'guest', { type: 'GuestWrite', requestId: `g${i}`, extent: 0, block: i % 4, writeId: `w${i}` });
  t.is(clientStates(rig)[1], 'Connecting{Start, Offline}', 'at the limit: still held');
  rig.proc.onMessage!(rig.env, 'guest', { type: 'GuestWrite', requestId: 'g30', extent: 0, block: 0, writeId: 'w30' });
  t.is(clientStates(rig)[1], 'Stopping(Fault)');
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  t.is(clientStates(rig)[1], 'Connecting{Start, Faulted}');
});
