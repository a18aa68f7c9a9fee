// Block IO while the upstairs is Active (crucible 6d037cb6, upstairs/src/lib.rs
// `DownstairsIO::result`, downstairs.rs; in the part the invariants need). Each guest request becomes one job sent to every client: Active clients get it at once,
// Offline ones have it held, any other is skipped. A job a client has not answered stays in
// progress for it: when an Offline client comes back, every job it has not done is replayed, in
// order, those sent before the connection broke included. A write or flush succeeds when at
// most one client skipped or failed it and two have done it (this model acks writes then, where
// Crucible acks them at once and relies on flushes); a read when one client answered.

import type { BlockData, UpstairsMessage } from '../protocol.ts';
import type { UpstairsReply } from './control.ts';
import type { DownstairsClient, Job, Upstairs } from './context.ts';

export interface IoPorts {
  send(client: DownstairsClient, message: UpstairsMessage): void;
}

export function submit(up: Upstairs, ports: IoPorts, kind: Job['kind'], replyTo: Job['replyTo'], make: (jobId: number) => UpstairsMessage): void {
  const id = ++up.nextJobId;
  const job: Job = { id, kind, replyTo, message: make(id), done: new Set(), skipped: new Set(), result: null, acked: false };
  up.jobs.set(id, job);
  for (const client of up.clients) {
    const s = client.state;
    if (s.kind === 'Active') ports.send(client, job.message);
    else if (!(s.kind === 'Connecting' && s.mode === 'Offline')) job.skipped.add(client.index);
  }
  settle(up, job);
}

/** The jobs a client has neither done nor skipped, oldest first: what an Offline client replays. */
export function inProgressFor(up: Upstairs, client: DownstairsClient): Job[] {
  return [...up.jobs.values()].filter((j) => !j.done.has(client.index) && !j.skipped.has(client.index)).sort((a, b) => a.id - b.id);
}

/** A client answered a job. */
export function jobDone(up: Upstairs, client: DownstairsClient, jobId: number, data: BlockData | null): void {
  const job = up.jobs.get(jobId);
  if (job === undefined) return;
  job.done.add(client.index);
  if (job.kind === 'Read' && job.result === null) job.result = data;
  settle(up, job);
}

/** A client will not do its jobs any more (Faulted): they count as skipped. */
export function skipClientJobs(up: Upstairs, client: DownstairsClient): void {
  for (const job of [...up.jobs.values()]) {
    if (job.done.has(client.index)) continue;
    job.skipped.add(client.index);
    settle(up, job);
  }
}

function settle(up: Upstairs, job: Job): void {
  const needed = job.kind === 'Read' ? 1 : 2;
  const failed = job.kind !== 'Read' && job.skipped.size > 1;
  const finished = job.done.size + job.skipped.size >= up.clients.length;
  if (!job.acked && (job.done.size >= needed || failed || finished)) {
    job.acked = true;
    const ok = job.done.size >= needed && !failed;
    if (job.replyTo !== null) {
      const reply: UpstairsReply = { type: 'GuestReply', requestId: job.replyTo.requestId, sessionId: up.sessionId, gen: up.gen, ok, data: job.result, error: ok ? null : 'IO error: too many downstairs skipped the job' };
      up.env.send(job.replyTo.node, reply);
    }
  }
  if (finished) up.jobs.delete(job.id);
}
