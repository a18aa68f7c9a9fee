// The guest data checker (C-I10, and the history half of C-L5 and C-I9): the guests' writes,
// reads and flushes with their completions form one history, in the order they happened (as
// Jepsen's); every block is a register, and every read the guest saw succeed must return a value
// the history allows. Anchors: Jepsen's register checker (an operation whose outcome is unknown
// may take effect at any time after it was invoked), and crutest's WriteLog (crucible
// `crutest/src/main.rs`: after a recovery a block may hold anything from the count committed at a
// flush up to the latest written, `validate_seed_range`, and what a read saw narrows it).
//
// Crucible's semantics, as the rules below encode them:
// - a write acknowledged to the guest is seen by every read that begins after it in the same
//   epoch (one activation of one upstairs process: reads depend on earlier writes, jobs run in
//   order on every downstairs);
// - a flush acknowledged in an epoch makes durable the writes that epoch had acknowledged before
//   the flush was issued: they survive any crash, takeover or re-activation;
// - anything else acknowledged may be lost when another epoch takes the region set over
//   (reconciliation picks one copy of each extent), so a read in a new epoch may see any write
//   from the last durable one on, or a write that was never acknowledged;
// - within an epoch the register does not go back: once a read saw a value, every write
//   acknowledged before that read began (or before the seen write was issued) is gone for good.
// A write that failed or timed out is unknown: it may land at any time after it was issued.
// One the upstairs answered with an error does not pin what a read saw of it, either: it may have
// reached one downstairs only (a read there saw it) and that copy may be repaired away or
// replaced (relaxed in issue 13: crucible-replacement seed 40608, a write that reached only the
// downstairs then replaced, read there while in flight, then failed).

import type { GuestEvent, GuestOp } from '../model/crucible/guest.ts';
import type { Finding } from '../sim/runner.ts';

export interface WriteRecord {
  readonly writeId: string;
  readonly extent: number;
  readonly block: number;
  /** blockKey(extent, block) */
  readonly key: string;
  /** History positions; Infinity while it has not happened (for ever if it never will). */
  readonly invokedAt: number;
  ackedAt: number;
  /** The epoch that acknowledged it. */
  epoch: string | null;
  /** When a flush of its epoch that covers it was acknowledged. */
  durableAt: number;
  /** The upstairs answered it with an error: its data is undefined. */
  failed: boolean;
}

interface ReadRecord {
  readonly epoch: string;
  readonly invokedAt: number;
  readonly completedAt: number;
  readonly value: string | null;
}

interface BlockHistory {
  readonly writes: WriteRecord[];
  readonly reads: ReadRecord[];
}

interface Pending {
  readonly op: GuestOp;
  readonly invokedAt: number;
}

export const blockKey = (extent: number, block: number): string => `extent ${extent} block ${block}`;

export class GuestRegister {
  /** The position the next event gets. */
  #next = 0;
  readonly #pending = new Map<string, Pending>();
  readonly #writes = new Map<string, WriteRecord>();
  readonly #blocks = new Map<string, BlockHistory>();
  /** Acknowledged writes no flush has covered yet, by epoch. */
  readonly #unflushed = new Map<string, WriteRecord[]>();
  /** How much of each process's history has been taken. */
  readonly #taken = new Map<string, number>();

  /** Take whatever `process` added to its (append-only) history since the last call. */
  catchUp(process: string, history: readonly GuestEvent[]): Finding | null {
    let taken = this.#taken.get(process) ?? 0;
    let found: Finding | null = null;
    for (; taken < history.length; taken++) found ??= this.append(process, history[taken]!);
    this.#taken.set(process, taken);
    return found;
  }

  /** Take the next event of `process`'s history; a read it cannot explain is a C-I10 finding. */
  append(process: string, event: GuestEvent): Finding | null {
    const at = this.#next++;
    const key = `${process}/${event.opId}`;
    if (event.type === 'invoke') {
      this.#invoke(key, event.op, at);
      return null;
    }
    const pending = this.#pending.get(key);
    if (pending === undefined) return null; // completed twice: the guest ignores late replies
    this.#pending.delete(key);
    const op = pending.op;
    if (event.type === 'fail' && op.f === 'write') this.#writes.get(op.writeId)!.failed = true;
    if (event.type !== 'ok') return null; // failed or timed out: unknown, it may still land
    if (op.f === 'write') this.#acked(op.writeId, event.epoch, at);
    else if (op.f === 'flush') this.#flushed(event.epoch, pending.invokedAt, at);
    else return this.#read(process, op, event.epoch, event.value, pending.invokedAt, at);
    return null;
  }

  /** Why a read of the block beginning at `invokedAt` and answered at `completedAt` in `epoch` could
   *  not have returned `value`; null if it could. Without positions: a read right now. */
  judge(extent: number, block: number, value: string | null, epoch: string, invokedAt = this.#next, completedAt = this.#next): string | null {
    const key = blockKey(extent, block);
    const history = this.#blocks.get(key);
    const seen = value === null ? null : (this.#writes.get(value) ?? null);
    if (value !== null && (seen === null || seen.key !== key || seen.invokedAt > completedAt)) return `no write of ${value} to it was issued before the read ended`;
    if (history === undefined) return null;
    for (const w of history.writes) {
      if (w === seen) continue;
      const why = replacedBy(w, seen, epoch, invokedAt);
      if (why !== null) return why;
    }
    for (const r of history.reads) {
      if (r.epoch !== epoch || r.completedAt >= invokedAt || r.value === value) continue;
      const why = this.#goneBefore(r, seen);
      if (why !== null) return why;
    }
    return null;
  }

  /** Every write a flush made durable. */
  durableWrites(): WriteRecord[] {
    return [...this.#writes.values()].filter((w) => w.durableAt !== Infinity);
  }

  /** Whether `later`, a write to the same block, may have landed after `earlier`: it was not
   *  acknowledged before `earlier` was issued (one of unknown outcome may land at any time). */
  mayFollow(later: string, earlier: WriteRecord): boolean {
    const w = this.#writes.get(later);
    return w !== undefined && w !== earlier && w.key === earlier.key && !(w.ackedAt < earlier.invokedAt);
  }

  #invoke(key: string, op: GuestOp, at: number): void {
    this.#pending.set(key, { op, invokedAt: at });
    if (op.f !== 'write') return;
    const w: WriteRecord = { writeId: op.writeId, extent: op.extent, block: op.block, key: blockKey(op.extent, op.block), invokedAt: at, ackedAt: Infinity, epoch: null, durableAt: Infinity, failed: false };
    this.#writes.set(op.writeId, w);
    this.#blockOf(w.key).writes.push(w);
  }

  #acked(writeId: string, epoch: string, at: number): void {
    const w = this.#writes.get(writeId);
    if (w === undefined) return;
    w.ackedAt = at;
    w.epoch = epoch;
    const list = this.#unflushed.get(epoch);
    if (list === undefined) this.#unflushed.set(epoch, [w]);
    else list.push(w);
  }

  /** A flush covers what its epoch acknowledged before the flush was issued; a write acknowledged
   *  while the flush was in flight may have reached a downstairs after it. */
  #flushed(epoch: string, invokedAt: number, at: number): void {
    const list = this.#unflushed.get(epoch);
    if (list === undefined) return;
    const left = list.filter((w) => !(w.ackedAt < invokedAt));
    for (const w of list) if (w.ackedAt < invokedAt) w.durableAt = at;
    this.#unflushed.set(epoch, left);
  }

  #read(process: string, op: Extract<GuestOp, { f: 'read' }>, epoch: string, value: string | null, invokedAt: number, at: number): Finding | null {
    const why = this.judge(op.extent, op.block, value, epoch, invokedAt, at);
    this.#blockOf(blockKey(op.extent, op.block)).reads.push({ epoch, invokedAt, completedAt: at, value });
    if (why === null) return null;
    return { invariant: 'C-I10', message: `${process} read ${blockKey(op.extent, op.block)} in epoch ${epoch} and got ${value ?? 'nothing (never written)'}, but ${why}` };
  }

  /** An earlier read of this epoch saw `r.value`: whatever was acknowledged before that read began,
   *  or before the value it saw was issued, was overwritten or lost by then, for the epoch. */
  #goneBefore(r: ReadRecord, seen: WriteRecord | null): string | null {
    const earlier = r.value === null ? null : (this.#writes.get(r.value) ?? null);
    if (earlier?.failed === true) return null; // what a read saw of a failed write pins nothing
    if (seen === null) return `an earlier read in the same epoch saw ${r.value}, and an epoch does not lose a write`;
    const bound = Math.max(r.invokedAt, earlier?.invokedAt ?? -1);
    if (seen.ackedAt < bound) return `an earlier read in the same epoch saw ${r.value ?? 'nothing'}, which ${seen.writeId} could not come back from`;
    return null;
  }

  #blockOf(key: string): BlockHistory {
    let b = this.#blocks.get(key);
    if (b === undefined) this.#blocks.set(key, (b = { writes: [], reads: [] }));
    return b;
  }
}

/** Why `w` rules `seen` out for a read beginning at `invokedAt` in `epoch`: `w` was certainly
 *  visible then (acknowledged before, in this epoch or made durable), and certainly came after
 *  `seen` (or there was nothing to see). Null if it does not rule it out. */
function replacedBy(w: WriteRecord, seen: WriteRecord | null, epoch: string, invokedAt: number): string | null {
  if (!(w.ackedAt < invokedAt)) return null;
  const durable = w.durableAt < invokedAt;
  if (w.epoch !== epoch && !durable) return null;
  const how = durable ? 'acknowledged and flushed' : 'acknowledged in the same epoch';
  if (seen === null) return `${w.writeId} was ${how} before the read began`;
  if (seen.ackedAt < w.invokedAt) return `${w.writeId}, ${how} before the read began, was issued after ${seen.writeId} was acknowledged`;
  return null;
}

/** The whole history at once (for tests and tools): the first read it cannot explain. */
export function checkGuestHistory(history: readonly { readonly process: string; readonly event: GuestEvent }[]): Finding | null {
  const register = new GuestRegister();
  for (const { process, event } of history) {
    const f = register.append(process, event);
    if (f !== null) return f;
  }
  return null;
}
