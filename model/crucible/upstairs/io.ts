// Block IO while the upstairs is Active (crucible 6d037cb6, upstairs/src/lib.rs
// `DownstairsIO::result`, downstairs.rs `enqueue`, `ack_check`; in the part the invariants need).
// Each guest request becomes one job for every client, decided when it is submitted: an Active
// client is sent it, an Offline one has it held for replay, a client in live repair is sent it
// when it touches an extent already repaired or under repair (or is a flush, or a repair job)
// and skips it otherwise, any other client skips it. A job a client has not answered stays in
// progress for it: an Offline client that comes back is sent every job it has not done, in
// order, those sent before its connection broke included.
// A read is acked when one client answered, a write or flush when two did (this model acks
// writes then, where Crucible acks them at once and relies on flushes), a live-repair job when
// all three did; any job at the latest when every client is through with it (done, skipped or
// failed). It succeeded if a read was done once, a write or flush skipped or failed at most once,
// a live-repair job failed nowhere and skipped at most once.
// Ordering: a downstairs here runs jobs in arrival order, where upstream's runs them by their
// dependency lists. The two agree as long as no job is sent before one it depends on; the only
// job created before it may be sent is live repair's reopen (reserved with the extent's other
// ids, sent after the no-op), so a job that depends on it (same extent, or a flush) is held in
// the upstairs until it is sent, and so is anything that depends on a held job.

import { panic, panicUnless } from '../../assert.ts';
import { probe } from '../../../ports/index.ts';
import type { BlockData, UpstairsMessage } from '../protocol.ts';
import type { UpstairsReply } from './control.ts';
import type { DownstairsClient, ExtentInfo, Job, JobKind, Upstairs } from './context.ts';

export interface IoPorts {
  send(client: DownstairsClient, message: UpstairsMessage): void;
}

export interface JobSpec {
  readonly kind: JobKind;
  readonly replyTo: Job['replyTo'];
  readonly extent: number | null;
  readonly message: (jobId: number, client: number) => UpstairsMessage;
  /** A job id reserved earlier (live repair's); a new one otherwise. */
  readonly id?: number;
  /** Hold it whatever it depends on (live repair's reopen, until its no-op is done). */
  readonly held?: boolean;
}

const REPAIR_KINDS: ReadonlySet<JobKind> = new Set(['ExtentFlushClose', 'ExtentLiveRepair', 'ExtentLiveNoOp', 'ExtentLiveReopen']);

export function submit(up: Upstairs, ports: IoPorts, spec: JobSpec): Job {
  const id = spec.id ?? ++up.nextJobId;
  if (!(!up.jobs.has(id) && id <= up.nextJobId)) panic(`job ${id} submitted twice or never reserved`);
  const job: Job = { id, kind: spec.kind, replyTo: spec.replyTo, extent: spec.extent, message: (client) => spec.message(id, client), done: new Set(), skipped: new Set(), errors: new Set(), result: null, closed: spec.kind === 'ExtentFlushClose' ? new Map() : null, held: false, acked: false, ok: false };
  job.held = spec.held === true || dependsOnHeld(up, job);
  if (job.held && spec.held !== true) probe(up.env, `upstairs.live-repair.held.${job.kind}`);
  up.jobs.set(id, job);
  for (const client of up.clients) {
    const s = client.state;
    const sends = s.kind === 'Active' || (s.kind === 'LiveRepair' && sendsDuringRepair(up, job));
    if (s.kind === 'LiveRepair' && !REPAIR_KINDS.has(job.kind)) probe(up.env, sends ? 'upstairs.live-repair.guest-io-sent' : 'upstairs.live-repair.guest-io-skipped');
    if (sends && !job.held) ports.send(client, job.message(client.index));
    else if (!sends && !(s.kind === 'Connecting' && s.mode === 'Offline')) job.skipped.add(client.index);
  }
  settle(up, job);
  return job;
}

/**
 * A flush (submit_flush). During a live repair it carries the extent under repair as its limit,
 * which only clients in live repair keep (client.rs prune_deps clears it for the others): their
 * extents past it are not repaired yet and must not be stamped with this flush.
 */
export function flushJob(up: Upstairs, replyTo: Job['replyTo']): JobSpec {
  const flushNumber = ++up.nextFlush;
  const gen = up.gen;
  // Bug switch crucible/flush-past-extent-limit: no limit, so unrepaired extents are stamped too.
  const limit = up.bugs.has('crucible/flush-past-extent-limit') ? null : (up.repair?.activeExtent ?? null);
  const message = (jobId: number, client: number): UpstairsMessage => ({ type: 'Flush', jobId, flushNumber, gen, extentLimit: up.clients[client]!.state.kind === 'LiveRepair' ? limit : null });
  return { kind: 'Flush', replyTo, extent: null, message };
}

/** client.rs / lib.rs send_io_live_repair: what a client under live repair is sent. */
function sendsDuringRepair(up: Upstairs, job: Job): boolean {
  if (REPAIR_KINDS.has(job.kind) || job.extent === null) return true;
  const limit = up.repair?.activeExtent;
  return limit !== undefined && job.extent <= limit;
}

/** Whether `later` must run after `earlier`: same extent, or either is a flush. */
function dependsOn(later: Job, earlier: Job): boolean {
  return earlier.id < later.id && (later.extent === null || earlier.extent === null || later.extent === earlier.extent);
}

function dependsOnHeld(up: Upstairs, job: Job): boolean {
  for (const other of up.jobs.values()) if (other.held && dependsOn(job, other)) return true;
  return false;
}

/**
 * A held job may go: sent to every client it is in progress for that is connected (Active or
 * in live repair; an Offline one gets it in its replay), then every held job that no longer
 * depends on one still held, in id order.
 */
export function release(up: Upstairs, ports: IoPorts, job: Job): void {
  if (!job.held) panic(`job ${job.id} released but not held`);
  job.held = false;
  const held = [...up.jobs.values()].filter((j) => j.held || j === job).sort((a, b) => a.id - b.id);
  for (const j of held) {
    if (j !== job && dependsOnHeld(up, j)) continue;
    j.held = false;
    for (const client of up.clients) {
      const s = client.state;
      if ((s.kind === 'Active' || s.kind === 'LiveRepair') && !j.done.has(client.index) && !j.skipped.has(client.index)) ports.send(client, j.message(client.index));
    }
  }
}

/** The jobs a client has neither done nor skipped, oldest first: what an Offline client replays. */
export function inProgressFor(up: Upstairs, client: DownstairsClient): Job[] {
  return [...up.jobs.values()].filter((j) => !j.done.has(client.index) && !j.skipped.has(client.index) && !j.errors.has(client.index)).sort((a, b) => a.id - b.id);
}

/** A client answered a job (with what it read, or how it found the extent it closed). */
export function jobDone(up: Upstairs, client: DownstairsClient, jobId: number, data: BlockData | null, closed: ExtentInfo | null = null): void {
  const job = up.jobs.get(jobId);
  if (job === undefined || job.skipped.has(client.index)) return; // skipped since: dropped, as upstream
  // A held job was never sent, and a client answers each job once (a replay resends only what it has not done).
  if (!(!job.held && !job.done.has(client.index))) panic(`client ${client.index}: an answer to job ${jobId}, which it was not sent or already did`);
  job.done.add(client.index);
  if (client.state.kind === 'Active') client.newestDoneActive = Math.max(client.newestDoneActive, jobId);
  if (job.kind === 'Read' && job.result === null) job.result = data;
  if (closed !== null) job.closed?.set(client.index, closed);
  settle(up, job);
}

/** A client could not do a job (a live repair's source unreachable). */
export function jobFailed(up: Upstairs, client: DownstairsClient, jobId: number): void {
  const job = up.jobs.get(jobId);
  if (job === undefined || job.skipped.has(client.index)) return;
  if (!REPAIR_KINDS.has(job.kind)) panic(`client ${client.index}: job ${jobId} (${job.kind}) failed, but only live repair's jobs can`);
  job.errors.add(client.index);
  settle(up, job);
}

/** A client will not do its jobs any more (Faulted): they count as skipped. */
export function skipClientJobs(up: Upstairs, client: DownstairsClient): void {
  for (const job of [...up.jobs.values()]) {
    if (job.done.has(client.index) || job.errors.has(client.index)) continue;
    job.skipped.add(client.index);
    settle(up, job);
  }
  if (!(inProgressFor(up, client).length === 0)) panic(`client ${client.index}: jobs left in progress after skipping them`);
}

/** What was held will never be sent (the live repair holding it was dropped): skipped everywhere. */
export function skipHeldJobs(up: Upstairs): void {
  for (const job of [...up.jobs.values()]) {
    if (!job.held) continue;
    job.held = false;
    for (const c of up.clients) if (!job.done.has(c.index) && !job.errors.has(c.index)) job.skipped.add(c.index);
    settle(up, job);
  }
  panicUnless(![...up.jobs.values()].some((j) => j.held), 'a held job left after skipping them all');
}

function settle(up: Upstairs, job: Job): void {
  const finished = job.done.size + job.skipped.size + job.errors.size >= up.clients.length;
  const repair = REPAIR_KINDS.has(job.kind);
  const needed = job.kind === 'Read' ? 1 : repair ? up.clients.length : 2;
  const failed = job.kind !== 'Read' && job.skipped.size + job.errors.size > 1;
  // ack_check: when enough clients did it, or when every client is through with it.
  if (!job.acked && (finished || (!repair && job.done.size >= needed))) {
    job.acked = true;
    job.ok = repair ? job.errors.size === 0 && job.skipped.size <= 1 : job.done.size >= needed && !failed;
    if (!(!job.ok || job.done.size >= 1)) panic(`job ${job.id} acked ok with no client having done it`);
    if (job.replyTo !== null) {
      const reply: UpstairsReply = { type: 'GuestReply', requestId: job.replyTo.requestId, sessionId: up.sessionId, gen: up.gen, ok: job.ok, data: job.result, error: job.ok ? null : 'IO error: too many downstairs skipped the job' };
      up.env.send(job.replyTo.node, reply);
    }
  }
  if (finished) up.jobs.delete(job.id);
}
