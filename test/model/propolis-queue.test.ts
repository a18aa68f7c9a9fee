import test from 'ava';
import fc from 'fast-check';
import { ProtocolPanic } from '../../model/assert.ts';
import { ExternalRequestQueue, type ExternalRequest, type StateChangeRequest } from '../../model/propolis/request-queue.ts';
import type { Vcr } from '../../model/crucible/vcr.ts';

// Propolis' request queue, derived from propolis 372a5744 bin/propolis-server/src/lib/vm/
// request_queue.rs `mod test`: its seven unit tests, its three property tests with the same
// reference models, and its saved regression cases. Upstream's queue accepts a Migrate while a
// start is pending (a latent driver panic, docs/protocols.md); that is the switch
// propolis/migrate-accepted-while-starting, so the tests that expect it run with the switch on
// (UPSTREAM), and their twins check the default, which denies it StartInProgress.

const NONE: ReadonlySet<string> = new Set();
const UPSTREAM: ReadonlySet<string> = new Set(['propolis/migrate-accepted-while-starting']);

const START: StateChangeRequest = { kind: 'Start' };
const STOP: StateChangeRequest = { kind: 'Stop' };
const REBOOT: StateChangeRequest = { kind: 'Reboot' };
const migrate = (): StateChangeRequest => ({ kind: 'MigrateAsSource', migrationId: 'm', target: 'propolis-b' });
const EMPTY_VCR: Vcr = { type: 'Volume', id: 'v', blockSize: 512, subVolumes: [], readOnlyParent: null };
const vcr = (requestId = 'vcr'): ExternalRequest => ({ kind: 'ReconfigureCrucibleVolume', requestId, backendId: 'disk', vcr: EMPTY_VCR });

function running(bugs = NONE): ExternalRequestQueue {
  const q = new ExternalRequestQueue(true, bugs);
  q.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  return q;
}

test('start_requests_become_idempotent_after_first_request', (t) => {
  const q = new ExternalRequestQueue(false, NONE);
  t.is(q.tryQueue(START).kind, 'Queued');
  t.is(q.tryQueue(START).kind, 'Ignored');
  t.deepEqual(q.popFront(), START);
  t.true(q.empty);
  q.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  t.is(q.tryQueue(START).kind, 'Ignored');
  t.true(q.empty);
});

test('migrate_as_source_is_not_idempotent', (t) => {
  const q = running();
  t.is(q.tryQueue(migrate()).kind, 'Queued');
  t.deepEqual(q.tryQueue(migrate()), { kind: 'Denied', reason: 'AlreadyMigrationSource' });
  t.is(q.popFront()?.kind, 'MigrateAsSource');
  q.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: false });
  t.is(q.tryQueue(migrate()).kind, 'Queued');
  q.popFront();
  q.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: true });
  t.deepEqual(q.tryQueue(migrate()), { kind: 'Denied', reason: 'MigratedOut' });
});

test('stop_requests_are_idempotent', (t) => {
  const q = running();
  t.is(q.tryQueue(STOP).kind, 'Queued');
  t.is(q.tryQueue(STOP).kind, 'Ignored');
  t.deepEqual(q.popFront(), STOP);
  t.true(q.empty);
});

test('stop_requests_ignored_after_vm_failure', (t) => {
  const q = new ExternalRequestQueue(true, NONE);
  q.notifyRequestCompleted({ kind: 'Start', succeeded: false });
  t.is(q.tryQueue(STOP).kind, 'Ignored');
  t.true(q.empty);
});

test('reboot_requests_are_idempotent_except_when_stopping', (t) => {
  const q = running();
  t.true(q.empty);
  for (let i = 0; i < 5; i++) t.not(q.tryQueue(REBOOT).kind, 'Denied');
  t.deepEqual(q.popFront(), REBOOT);
  t.true(q.empty, 'one Reboot queued, four ignored');
  q.notifyRequestCompleted({ kind: 'Reboot' });
  t.is(q.tryQueue(REBOOT).kind, 'Queued');
  q.popFront();
  q.notifyRequestCompleted({ kind: 'Reboot' });
  t.is(q.tryQueue(REBOOT).kind, 'Queued');
  t.false(q.empty);
  t.is(q.tryQueue(STOP).kind, 'Queued');
  t.deepEqual(q.tryQueue(REBOOT), { kind: 'Denied', reason: 'HaltPending' });
  t.deepEqual(q.popFront(), REBOOT, 'FIFO: the Reboot before the Stop');
  q.notifyRequestCompleted({ kind: 'Reboot' });
  t.deepEqual(q.tryQueue(REBOOT), { kind: 'Denied', reason: 'HaltPending' });
});

test('mutation_disallowed_after_stopped', (t) => {
  const q = running();
  t.is(q.tryQueue(STOP).kind, 'Queued');
  q.notifyRequestCompleted({ kind: 'Stop' }); // without popping, as upstream's test does
  t.deepEqual(q.tryQueue(vcr()), { kind: 'Denied', reason: 'Halted' });
});

test('vcr_requests_canceled_when_queue_drops: each queued VCR is owed one 410, state requests none', (t) => {
  const q = running();
  t.is(q.tryQueue(vcr('a')).kind, 'Queued');
  t.is(q.tryQueue(STOP).kind, 'Queued');
  t.is(q.tryQueue(vcr('b')).kind, 'Queued');
  t.deepEqual(q.drain().map((r) => r.requestId), ['a', 'b']);
  t.deepEqual(q.drain(), [], 'drained once');
});

type Kind = 'Start' | 'StartFails' | 'Stop' | 'Reboot' | 'Migrate' | 'MigrateFails' | 'Vcr';
const kinds = fc.constantFrom<Kind>('Start', 'StartFails', 'Stop', 'Reboot', 'Migrate', 'MigrateFails', 'Vcr');
function requestOf(k: Kind): ExternalRequest {
  if (k === 'Start' || k === 'StartFails') return START;
  if (k === 'Stop') return STOP;
  if (k === 'Reboot') return REBOOT;
  if (k === 'Vcr') return vcr();
  return migrate();
}

test('proptest request_queuing_before_start_acknowledged (upstream queue: Migrate accepted once a Start is queued)', (t) => {
  fc.assert(
    fc.property(fc.array(kinds, { maxLength: 100, size: 'medium' }), (reqs) => {
      const q = new ExternalRequestQueue(false, UPSTREAM);
      let started = false;
      let stopRequested = false;
      let migratingOut = false;
      for (const k of reqs) {
        const ok = q.tryQueue(requestOf(k)).kind !== 'Denied';
        if (k === 'Start' || k === 'StartFails') {
          if (ok !== !stopRequested) return false;
          if (ok) started = true;
        } else if (k === 'Stop') {
          if (!ok) return false;
          stopRequested = true;
        } else if (k === 'Reboot') {
          if (ok) return false;
        } else if (k === 'Migrate' || k === 'MigrateFails') {
          if (ok !== (started && !stopRequested && !migratingOut)) return false;
          if (ok) migratingOut = true;
        } else if (!ok) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('the same before acknowledgement, default protocol: a Migrate is denied while the start is pending', (t) => {
  const q = new ExternalRequestQueue(false, NONE);
  t.deepEqual(q.tryQueue(migrate()), { kind: 'Denied', reason: 'InstanceNotActive' });
  t.is(q.tryQueue(START).kind, 'Queued');
  t.deepEqual(q.tryQueue(migrate()), { kind: 'Denied', reason: 'StartInProgress' });
  q.popFront();
  q.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  t.is(q.tryQueue(migrate()).kind, 'Queued', 'once Running, as upstream');
});

test('proptest request_queuing_with_immediate_dequeueing', (t) => {
  fc.assert(
    fc.property(fc.array(kinds, { maxLength: 100, size: 'medium' }), (reqs) => {
      const q = new ExternalRequestQueue(false, NONE);
      let startRequested = false;
      let halted = false;
      for (const k of reqs) {
        const ok = q.tryQueue(requestOf(k)).kind !== 'Denied';
        const popped = q.popFront();
        if (k === 'Start' || k === 'StartFails') {
          if (ok !== !halted) return false;
          if (!ok || startRequested) {
            if (popped !== null) return false;
            continue;
          }
          if (popped?.kind !== 'Start') return false;
          startRequested = true;
          q.notifyRequestCompleted({ kind: 'Start', succeeded: k === 'Start' });
          if (k === 'StartFails') halted = true;
        } else if (k === 'Stop') {
          if (!ok) return false;
          if (halted) {
            if (popped !== null) return false;
            continue;
          }
          if (popped?.kind !== 'Stop') return false;
          q.notifyRequestCompleted({ kind: 'Stop' });
          halted = true;
        } else if (k === 'Reboot' || k === 'Migrate' || k === 'MigrateFails') {
          if (ok !== (startRequested && !halted)) return false;
          if (!ok) {
            if (popped !== null) return false;
            continue;
          }
          if (k === 'Reboot') q.notifyRequestCompleted({ kind: 'Reboot' });
          else {
            q.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: k === 'Migrate' });
            if (k === 'Migrate') halted = true;
          }
        } else {
          if (ok !== !halted) return false;
          if (ok !== (popped?.kind === 'ReconfigureCrucibleVolume')) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});

type Op = { readonly op: 'Enqueue'; readonly kind: Kind } | { readonly op: 'Dequeue' };
const ops = fc.array(fc.oneof(kinds.map((kind): Op => ({ op: 'Enqueue', kind })), fc.constant<Op>({ op: 'Dequeue' })), { maxLength: 100, size: 'medium' });

/** request_queue_dequeue's reference model (QueueDequeueTest), run against the queue; returns a problem or null. */
function dequeueModel(sequence: readonly Op[], bugs: ReadonlySet<string>): string | null {
  const q = new ExternalRequestQueue(false, bugs);
  const m = { startRequested: false, started: false, stopRequested: false, rebootRequested: false, migrateOutRequested: false, halted: false };
  const expectedState: Kind[] = [];
  const expectedComponent: Kind[] = [];
  for (const [i, step] of sequence.entries()) {
    if (step.op === 'Enqueue') {
      const k = step.kind;
      const ok = q.tryQueue(requestOf(k)).kind !== 'Denied';
      let want: boolean;
      if (k === 'Start' || k === 'StartFails') {
        want = !(m.halted || m.stopRequested);
        if (want && !m.startRequested) {
          expectedState.push(k);
          m.startRequested = true;
        }
      } else if (k === 'Stop') {
        want = true;
        if (!m.halted && !m.stopRequested) {
          expectedState.push(k);
          m.stopRequested = true;
        }
      } else if (k === 'Reboot') {
        want = !(!m.started || m.halted || m.stopRequested || m.migrateOutRequested);
        if (want && !m.rebootRequested) {
          expectedState.push(k);
          m.rebootRequested = true;
        }
      } else if (k === 'Migrate' || k === 'MigrateFails') {
        const startedEnough = bugs.has('propolis/migrate-accepted-while-starting') ? m.started || m.startRequested : m.started;
        want = !(!startedEnough || m.halted || m.stopRequested || m.migrateOutRequested);
        if (want) {
          expectedState.push(k);
          m.migrateOutRequested = true;
        }
      } else {
        want = !m.halted;
        if (want) expectedComponent.push(k);
      }
      if (ok !== want) return `op ${i}: enqueue ${k} ${ok ? 'accepted' : 'denied'}, the model says ${want ? 'accepted' : 'denied'}`;
      continue;
    }
    const popped = q.popFront();
    const expected = expectedState.shift() ?? expectedComponent.shift() ?? null;
    const got = popped === null ? null : popped.kind;
    const want = expected === null ? null : requestOf(expected).kind;
    if (got !== want) return `op ${i}: dequeued ${got}, the model says ${want}`;
    if (expected === 'Start' || expected === 'StartFails') {
      q.notifyRequestCompleted({ kind: 'Start', succeeded: expected === 'Start' });
      if (expected === 'Start') m.started = true;
      else m.halted = true;
    } else if (expected === 'Stop') {
      q.notifyRequestCompleted({ kind: 'Stop' });
      m.halted = true;
    } else if (expected === 'Reboot') {
      q.notifyRequestCompleted({ kind: 'Reboot' });
      m.rebootRequested = false;
    } else if (expected === 'Migrate' || expected === 'MigrateFails') {
      // A migrate dequeued before its start was acknowledged: the driver would panic (docs/protocols.md).
      if (q.state !== 'Running') return null;
      q.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: expected === 'Migrate' });
      m.migrateOutRequested = false;
      if (expected === 'Migrate') m.halted = true;
    }
    if (m.halted) return null;
  }
  return null;
}

test('proptest request_queue_dequeue: enqueues and dequeues against the reference model, upstream queue and default', (t) => {
  for (const bugs of [UPSTREAM, NONE]) {
    fc.assert(fc.property(ops, (sequence) => dequeueModel(sequence, bugs) === null));
  }
  t.pass();
});

test('the saved proptest regressions (proptest-regressions/vm/request_queue.txt)', (t) => {
  const reqs: Kind[][] = [['Migrate', 'Stop'], ['Start', 'Stop', 'Migrate'], ['Start', 'Migrate'], ['Migrate'], ['Start', 'MigrateFails', 'Reboot']];
  for (const r of reqs) {
    const q = new ExternalRequestQueue(false, UPSTREAM);
    const accepted = r.map((k) => q.tryQueue(requestOf(k)).kind !== 'Denied');
    // The model of request_queuing_before_start_acknowledged for each.
    if (r.join() === 'Migrate,Stop') t.deepEqual(accepted, [false, true]);
    if (r.join() === 'Start,Stop,Migrate') t.deepEqual(accepted, [true, true, false]);
    if (r.join() === 'Start,Migrate') t.deepEqual(accepted, [true, true]);
    if (r.join() === 'Migrate') t.deepEqual(accepted, [false]);
    if (r.join() === 'Start,MigrateFails,Reboot') t.deepEqual(accepted, [true, true, false]);
  }
  t.is(dequeueModel([{ op: 'Enqueue', kind: 'Vcr' }, { op: 'Enqueue', kind: 'Start' }, { op: 'Dequeue' }], NONE), null, 'a Start dequeues before an older VCR');
});

test('completions are asserted: a broken one is a panic', (t) => {
  t.throws(() => new ExternalRequestQueue(false, NONE).notifyRequestCompleted({ kind: 'Start', succeeded: true }), { instanceOf: ProtocolPanic, message: /StartPending/ });
  t.throws(() => running().notifyRequestCompleted({ kind: 'Reboot' }), { instanceOf: ProtocolPanic });
  t.throws(() => running().notifyRequestCompleted({ kind: 'MigrationOut', succeeded: false }), { instanceOf: ProtocolPanic });
  t.throws(() => running().notifyRequestCompleted({ kind: 'Stop' }), { instanceOf: ProtocolPanic });
  const q = running();
  q.tryQueue(REBOOT);
  q.notifyStopped();
  t.is(q.state, 'Stopped');
  t.true(q.awaitReboot, 'notify_stopped leaves the flags as they were');
});

test('the terminal states deny everything but Stop, which they ignore', (t) => {
  const failed = new ExternalRequestQueue(true, NONE);
  failed.notifyRequestCompleted({ kind: 'Start', succeeded: false });
  const out = running();
  out.tryQueue(migrate());
  out.popFront();
  out.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: true });
  for (const [q, reason] of [[failed, 'InstanceFailed'], [out, 'MigratedOut']] as const) {
    for (const r of [START, REBOOT, migrate(), vcr()]) t.deepEqual(q.tryQueue(r), { kind: 'Denied', reason });
    t.is(q.tryQueue(STOP).kind, 'Ignored');
  }
});

test('propolis/vcr-denied-while-starting: the pre-#880 queue took a VCR only from a Running VM with nothing pending', (t) => {
  const bugs = new Set(['propolis/vcr-denied-while-starting']);
  const q = new ExternalRequestQueue(false, bugs);
  t.deepEqual(q.tryQueue(vcr()), { kind: 'Denied', reason: 'InstanceNotActive' });
  q.tryQueue(START);
  t.deepEqual(q.tryQueue(vcr()), { kind: 'Denied', reason: 'StartInProgress' });
  q.popFront();
  q.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  t.is(q.tryQueue(vcr()).kind, 'Queued');
  q.tryQueue(migrate());
  t.deepEqual(q.tryQueue(vcr()), { kind: 'Denied', reason: 'InvalidForMigrationSource' });
  t.is(new ExternalRequestQueue(false, NONE).tryQueue(vcr()).kind, 'Queued', 'today: any non-terminal state');
});

test('propolis/reboot-despite-pending-stop: Start, a Stop while starting, the start completes, a Reboot: the old assertion fails', (t) => {
  const bugs = new Set(['propolis/reboot-despite-pending-stop']);
  const q = new ExternalRequestQueue(false, bugs);
  q.tryQueue(START);
  q.popFront();
  t.is(q.tryQueue(STOP).kind, 'Queued');
  q.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  t.is(q.tryQueue(vcr()).kind, 'Queued', 'a VCR really was accepted (and gets 410 when the Stop ends the VM)');
  t.throws(() => q.tryQueue(REBOOT), { instanceOf: ProtocolPanic, message: /matches!\(self\.allowed\.start, RequestDisposition::Ignore\)/ });
  const fixed = new ExternalRequestQueue(false, NONE);
  fixed.tryQueue(START);
  fixed.popFront();
  fixed.tryQueue(STOP);
  fixed.notifyRequestCompleted({ kind: 'Start', succeeded: true });
  t.deepEqual(fixed.tryQueue(REBOOT), { kind: 'Denied', reason: 'HaltPending' }, 'today: denied');
});
