// Live repair (crucible 6d037cb6, upstairs/src/live_repair.rs and downstairs.rs
// check_live_repair_start, continue_live_repair, repair_or_noop, abort_repair): clients that
// came back Faulted or Replaced (LiveRepairReady) are brought level with an Active source while
// the guest's IO goes on, one extent at a time. For each extent four job ids are reserved at
// once (close, repair, no-op, reopen); the reopen is submitted at once (held until the no-op is
// done) and the close with it: ExtentLiveClose on the clients under repair, ExtentLiveFlushClose
// (flush the extent, then close it) on the others. When every client is done with the close the
// repair job is made: ExtentLiveRepair from the source for the clients whose extent differs
// (dirty, or another generation or flush number), a no-op for everyone else; then the no-op,
// then the reopen goes out. After the last extent, a flush; when it is acked the clients under
// repair are Active.
// Guest IO meanwhile: a client under repair is sent the jobs for extents up to the one under
// repair and skips the rest (io.ts); IO to the extent under repair, and flushes, wait for its
// reopen (upstream's dependencies).
// Faults: a repair job that fails (an error, or two clients skipping it), a client under repair
// leaving LiveRepair, or the source leaving Active aborts the repair: the clients under repair
// are faulted (FailedLiveRepair), the jobs already reserved are still sent (as no-ops where not
// yet made), and a final flush ends it; they come back Faulted and a new repair starts from the
// beginning. Not modelled: IO spanning two extents (a guest request here is one block), so ids
// are never reserved for extents past the one under repair.

import { panic, panicUnless } from '../../assert.ts';
import type { UpstairsMessage } from '../protocol.ts';
import type { DownstairsClient, ExtentInfo, Job, Upstairs } from './context.ts';
import { flushJob, release, skipClientJobs, submit, type IoPorts } from './io.ts';
import type { DsState } from './states.ts';

export type LiveRepairStep = 'Closing' | 'Repairing' | 'Noop' | 'Reopening' | 'FinalFlush';
export type LiveRepairStart = 'Started' | 'AlreadyRunning' | 'NotNeeded' | 'AllNeedRepair' | 'NoSource';

export interface LiveRepair {
  readonly extentCount: number;
  /** The extent under repair: jobs for extents up to it reach the clients under repair. */
  activeExtent: number;
  readonly source: number;
  readonly repairDownstairs: readonly number[];
  /** Once set, what is left is sent as no-ops, then the final flush. */
  aborting: boolean;
  step: LiveRepairStep;
  /** The current extent's reserved job ids. */
  ids: { readonly close: number; readonly repair: number; readonly noop: number; readonly reopen: number };
  /** The job whose ack moves the repair on. */
  waitingFor: Job;
  /** The current extent's reopen, submitted held with the close. */
  reopen: Job;
}

/** What live repair needs of the upstairs node: client transitions are its to make and log. */
export interface LiveRepairPorts extends IoPorts {
  setClient(client: DownstairsClient, next: DsState): void;
  /** Fault a client (Stopping(Fault)); it comes back Faulted. */
  fault(client: DownstairsClient, why: string): void;
  notifyFinished(targets: readonly string[], succeeded: boolean): void;
  probe(name: string): void;
}

/** check_live_repair_start: idempotent; starts a repair when one can start. */
export function checkLiveRepairStart(up: Upstairs, ports: LiveRepairPorts): LiveRepairStart {
  if (up.repair !== null || up.clients.some((c) => c.state.kind === 'LiveRepair')) return 'AlreadyRunning';
  const ready = up.clients.filter((c) => c.state.kind === 'Connecting' && c.state.state === 'LiveRepairReady');
  const active = up.clients.filter((c) => c.state.kind === 'Active');
  if (ready.length === 0) return 'NotNeeded';
  if (ready.length === up.clients.length) return 'AllNeedRepair';
  const source = active.at(-1); // upstream's loop keeps the last Active client it sees
  if (source === undefined) return 'NoSource';
  for (const c of ready) ports.setClient(c, { kind: 'LiveRepair' });
  // An Offline client is not replayed any more: it must come back through live repair too.
  for (const c of up.clients) {
    const s = c.state;
    if (s.kind !== 'Connecting' || s.mode !== 'Offline') continue;
    ports.setClient(c, { kind: 'Connecting', state: s.state, mode: 'Faulted' });
    skipClientJobs(up, c);
  }
  const placeholder = null as unknown as Job; // set by sendLiveRepairJobs below
  up.repair = { extentCount: up.region.extentCount, activeExtent: 0, source: source.index, repairDownstairs: ready.map((c) => c.index), aborting: false, step: 'Closing', ids: { close: 0, repair: 0, noop: 0, reopen: 0 }, waitingFor: placeholder, reopen: placeholder };
  ports.probe('upstairs.live-repair.started');
  up.log(`live repair of client(s) ${up.repair.repairDownstairs.join(', ')} from client ${source.index}`);
  sendLiveRepairJobs(up, ports);
  return 'Started';
}

/**
 * send_live_repair_jobs: reserve the extent's four ids, submit its reopen (held) and its close.
 * Never called while aborting: ours reserves no ids past the extent under repair (no IO spans
 * extents), so an abort ends after the current extent, where upstream may still owe no-ops for
 * extents it reserved.
 */
function sendLiveRepairJobs(up: Upstairs, ports: LiveRepairPorts): void {
  const repair = up.repair!;
  if (!(up.state.kind === 'Active' && !repair.aborting)) panic(`live repair of extent ${repair.activeExtent} while ${up.state.kind}${repair.aborting ? ', aborting' : ''}`);
  checkRepairStates(up, repair);
  const first = up.nextJobId + 1;
  up.nextJobId += 4;
  repair.ids = { close: first, repair: first + 1, noop: first + 2, reopen: first + 3 };
  const extent = repair.activeExtent;
  repair.step = 'Closing';
  repair.reopen = submit(up, ports, { kind: 'ExtentLiveReopen', replyTo: null, extent, id: repair.ids.reopen, held: true, message: (jobId) => ({ type: 'ExtentLiveReopen', jobId, extent }) });
  const flushNumber = ++up.nextFlush;
  const closeFor = (jobId: number, client: number): UpstairsMessage => (repair.repairDownstairs.includes(client) ? { type: 'ExtentLiveClose', jobId, extent } : { type: 'ExtentLiveFlushClose', jobId, extent, flushNumber, gen: up.gen });
  repair.waitingFor = submit(up, ports, { kind: 'ExtentFlushClose', replyTo: null, extent, id: repair.ids.close, message: closeFor });
}

function noop(up: Upstairs, ports: LiveRepairPorts, id: number, extent: number): Job {
  return submit(up, ports, { kind: 'ExtentLiveNoOp', replyTo: null, extent, id, message: (jobId) => ({ type: 'ExtentLiveNoOp', jobId }) });
}

function checkRepairStates(up: Upstairs, repair: LiveRepair): void {
  if (!(up.clients[repair.source]!.state.kind === 'Active')) panic(`live repair source client ${repair.source} is not Active`);
  for (const c of repair.repairDownstairs) if (up.clients[c]!.state.kind !== 'LiveRepair') panic(`client ${c} under live repair is not in LiveRepair`);
}

/** check_and_continue_live_repair: move on for as long as the job waited for is acked. */
export function continueLiveRepair(up: Upstairs, ports: LiveRepairPorts): void {
  // Each pass finishes a step; an extent has five, and one more ends the repair.
  const stepsMax = 5 * up.region.extentCount + 2;
  for (let i = 0; up.repair !== null && up.repair.waitingFor.acked; i++) {
    panicUnless(i < stepsMax, 'live repair did not settle');
    nextStep(up, ports, up.repair);
  }
}

function nextStep(up: Upstairs, ports: LiveRepairPorts, repair: LiveRepair): void {
  if (!repair.aborting && !repair.waitingFor.ok) abortRepair(up, ports, `job ${repair.waitingFor.id} failed`);
  const invalid = repair.repairDownstairs.some((c) => up.clients[c]!.state.kind !== 'LiveRepair') || up.clients[repair.source]!.state.kind !== 'Active';
  if (!repair.aborting && invalid) abortRepair(up, ports, 'a client left its part in the repair');
  const extent = repair.activeExtent;
  switch (repair.step) {
    case 'Closing': {
      const closed = repair.waitingFor.closed ?? panic(`job ${repair.waitingFor.id}: a close with no close results`);
      repair.step = 'Repairing';
      repair.waitingFor = repair.aborting ? noop(up, ports, repair.ids.repair, extent) : repairOrNoop(up, ports, repair, closed);
      return;
    }
    case 'Repairing':
      repair.step = 'Noop';
      repair.waitingFor = noop(up, ports, repair.ids.noop, extent);
      return;
    case 'Noop':
      repair.step = 'Reopening';
      repair.waitingFor = repair.reopen;
      if (repair.reopen.held) release(up, ports, repair.reopen);
      return;
    case 'Reopening':
      return nextExtent(up, ports, repair);
    case 'FinalFlush':
      return finishRepair(up, ports, repair);
  }
}

/** repair_or_noop: repair the clients whose extent differs from the source's, skip the rest. */
function repairOrNoop(up: Upstairs, ports: LiveRepairPorts, repair: LiveRepair, closed: ReadonlyMap<number, ExtentInfo>): Job {
  const extent = repair.activeExtent;
  const good = closed.get(repair.source) ?? panic(`extent ${extent}: no close result from the source, client ${repair.source}`);
  const needRepair = repair.repairDownstairs.filter((c) => {
    const info = closed.get(c) ?? panic(`extent ${extent}: no close result from client ${c}`);
    return info.dirty || info.gen !== good.gen || info.flush !== good.flush;
  });
  ports.probe(needRepair.length === 0 ? 'upstairs.live-repair.extent-noop' : 'upstairs.live-repair.extent-repaired');
  if (needRepair.length === 0) return noop(up, ports, repair.ids.repair, extent);
  const source = up.clients[repair.source]!.address;
  const message = (jobId: number, client: number): UpstairsMessage => (needRepair.includes(client) ? { type: 'ExtentLiveRepair', jobId, extent, source } : { type: 'ExtentLiveNoOp', jobId });
  return submit(up, ports, { kind: 'ExtentLiveRepair', replyTo: null, extent, id: repair.ids.repair, message });
}

/** After a reopen: the next extent, or (last extent, or aborting) the final flush. */
function nextExtent(up: Upstairs, ports: LiveRepairPorts, repair: LiveRepair): void {
  const next = repair.activeExtent + 1;
  if (next < repair.extentCount && !repair.aborting) {
    repair.activeExtent = next;
    ports.probe('upstairs.live-repair.next-extent');
    return sendLiveRepairJobs(up, ports);
  }
  repair.step = 'FinalFlush';
  repair.waitingFor = submit(up, ports, flushJob(up, null));
}

function finishRepair(up: Upstairs, ports: LiveRepairPorts, repair: LiveRepair): void {
  if (!repair.aborting) {
    for (const c of repair.repairDownstairs) ports.setClient(up.clients[c]!, { kind: 'Active' });
    ports.probe('upstairs.live-repair.finished');
  }
  up.repair = null;
  ports.notifyFinished(repair.repairDownstairs.map((c) => up.clients[c]!.address), !repair.aborting);
  panicUnless(!up.clients.some((c) => c.state.kind === 'LiveRepair'), 'a client still in LiveRepair after its repair ended');
}

/** abort_repair: fault the clients under repair; what is reserved goes out as no-ops. */
export function abortRepair(up: Upstairs, ports: LiveRepairPorts, why: string): void {
  const repair = up.repair;
  if (repair === null || repair.aborting) return;
  up.log(`live repair aborted: ${why}`);
  ports.probe('upstairs.live-repair.aborted');
  repair.aborting = true;
  for (const c of up.clients) if (c.state.kind === 'LiveRepair') ports.fault(c, 'FailedLiveRepair');
  panicUnless(!up.clients.some((c) => c.state.kind === 'LiveRepair'), 'a client still in LiveRepair after the abort');
}
