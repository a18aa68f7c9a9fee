// Safety invariants of Crucible (docs/protocols.md, the Crucible scenarios), checked after every step.
// C-I1  A read-write downstairs has at most one active upstairs, and its active generation never
//       goes down while it runs.
// C-I2  Once a downstairs has sent YouAreNoLongerActive on a connection, no IO from that
//       connection runs there.
// C-I3  A Disabled upstairs has every client Stopping(Disabled) or parked in Connecting{New,
//       WaitConnect} (and, by construction of UpstairsState, no activation reply pending).
// C-I4  No activation or deactivation request is answered twice (that each is answered once is a
//       liveness goal).
// C-I5  Clients are Active or in LiveRepair only while their upstairs is Active, or Active while
//       it is Deactivating, until their final flush is done (every single transition is asserted
//       by the upstairs itself: an invalid one is a PANIC, C-I6).
// C-I8  Live repair never has three clients repairing, and a client is in LiveRepair only while
//       a repair is under way (its source may have left Active just now: the repair aborts when
//       its next job completes, as upstream); at most one client of an upstairs is being
//       replaced at a time.
// C-I7  When reconciliation ends and the upstairs goes Active, the three regions agree: equal
//       (gen, flush) for every extent and nothing dirty.
// C-I9  On every downstairs, no block is overwritten by a write of a lower upstairs generation.
//       A repair replaces a whole extent with its source's copy, rolling back writes that were
//       never flushed: the step that applies one re-baselines that downstairs instead.
// With a guest register (the Crucible scenarios; not the Propolis world, which has no guest):
// C-I10 Every read a guest saw succeed returns what its history allows (crucible-register.ts).
// C-I11 IO and repairs land only through a live, active connection; a repaired extent equals its
//       source; reconciliation leaves the three regions equal block for block (crucible-landing.ts).

import type { DownstairsMessage, Framed, UpstairsMessage } from '../model/crucible/protocol.ts';
import type { Finding } from '../sim/runner.ts';
import type { SendObserver, StepRecord } from '../sim/simulator.ts';
import { CrucibleLanding } from './crucible-landing.ts';
import type { Upstairs } from '../model/crucible/upstairs/context.ts';
import type { GuestRegister } from './crucible-register.ts';
import type { CrucibleWorld } from './crucible-world.ts';

export class CrucibleSafety implements SendObserver {
  readonly #world: CrucibleWorld;
  readonly #downstairs: ReadonlySet<string>;
  readonly #upstairs: ReadonlySet<string>;
  /** C-I1: per downstairs process, the highest active generation seen. */
  readonly #activeGen = new Map<object, number>();
  /** C-I2: connections told YouAreNoLongerActive, by downstairs. */
  readonly #kicked = new Set<string>();
  /** C-I7: each upstairs' last seen state. */
  readonly #upstairsState = new Map<string, string>();
  /** Per upstairs, what #unchanged compared last. */
  readonly #lastSeen = new Map<string, unknown[]>();
  /** C-I9: per downstairs, by extent * blocksPerExtent + block, the highest write generation seen. */
  readonly #blockGen = new Map<string, number[]>();
  /** C-I10: the guests' history, fed as it grows (null without guests to check). */
  readonly #register: GuestRegister | null;
  /** C-I11 (with the register only). */
  readonly #landing: CrucibleLanding | null;
  #pending: Finding | null = null;

  constructor(world: CrucibleWorld, register: GuestRegister | null = null) {
    this.#world = world;
    this.#downstairs = new Set(world.downstairsIds);
    this.#upstairs = new Set(world.upstairsIds);
    this.#register = register;
    this.#landing = register === null ? null : new CrucibleLanding(world);
  }

  onSend(from: string, to: string, message: unknown): void {
    if (this.#landing !== null && this.#upstairs.has(from)) {
      if ((message as { type?: string } | null)?.type === 'Frame') this.#landing.onUpstairsFrame(to, message as Framed<UpstairsMessage>);
      return;
    }
    if (!this.#downstairs.has(from) || (message as { type?: string } | null)?.type !== 'Frame') return;
    const frame = message as Framed<DownstairsMessage>;
    const m = frame.message;
    if (m.type === 'YouAreNoLongerActive') this.#kicked.add(`${from}/${frame.conn}`);
    else if ((m.type === 'WriteAck' || m.type === 'FlushAck' || m.type === 'ReadResponse') && this.#kicked.size > 0 && this.#kicked.has(`${from}/${frame.conn}`)) {
      this.#pending ??= { invariant: 'C-I2', message: `${from} ran IO (${m.type}) for ${to} on a connection it had told YouAreNoLongerActive` };
    }
    if (this.#landing !== null) this.#pending ??= this.#landing.onDownstairsFrame(from, frame);
  }

  afterStep(step: StepRecord): Finding | null {
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) return pending;
    // A node's state changes only in its own steps; a fault or restart (an action) may touch any
    // node but changes no region (a crash keeps the disk as it was).
    if (step.kind === 'action') return this.#activeUpstairs(null) ?? this.#upstairsStates(null) ?? this.#replies(null);
    const node = step.node;
    if (this.#downstairs.has(node)) return this.#activeUpstairs(node) ?? this.#blockGenerations(node, step);
    if (this.#upstairs.has(node)) return this.#upstairsStates(node);
    if (node === this.#world.controlId) return this.#replies(node);
    return this.#guestHistory(node);
  }

  #activeUpstairs(only: string | null): Finding | null {
    for (const id of this.#world.downstairsIds) {
      if (only !== null && id !== only) continue;
      const ds = this.#world.downstairs(id);
      if (ds === null) continue;
      const active = ds.active();
      if (active.length > 1) {
        return { invariant: 'C-I1', message: `${id} has ${active.length} active upstairs: ${active.map((c) => `${c.node} (session ${c.sessionId}, ${c.conn})@gen ${c.gen}`).join(', ')}` };
      }
      const gen = active[0]?.gen;
      if (gen === undefined) continue;
      const seen = this.#activeGen.get(ds) ?? 0;
      if (gen < seen) return { invariant: 'C-I1', message: `${id}'s active generation went down: ${seen} -> ${gen}` };
      this.#activeGen.set(ds, gen);
    }
    return null;
  }

  #upstairsStates(only: string | null): Finding | null {
    for (const id of this.#world.upstairsIds) {
      if (only !== null && id !== only) continue;
      const up = this.#world.upstairs(id)?.upstairs;
      if (up === undefined || this.#unchanged(id, up)) continue;
      const before = this.#upstairsState.get(id);
      this.#upstairsState.set(id, up.state.kind);
      // A read-only upstairs goes Active with one client and reconciles nothing: no C-I7 to check.
      const found = this.#clientStates(id, up) ?? (before === 'GoActive' && up.state.kind === 'Active' && !up.readOnly ? this.#reconciled(id, up) : null);
      if (found !== null) return found;
    }
    return null;
  }

  /** Whether nothing C-I3/5/7/8 look at moved since the last look: states are replaced on every
   *  transition, never changed in place, so comparing the objects is enough. */
  #unchanged(id: string, up: Upstairs): boolean {
    let seen = this.#lastSeen.get(id);
    if (seen === undefined) this.#lastSeen.set(id, (seen = []));
    let same = seen.length === up.clients.length + 2 && seen[0] === up && seen[1] === up.state;
    seen[0] = up;
    seen[1] = up.state;
    for (let i = 0; i < up.clients.length; i++) {
      const s = up.clients[i]!.state;
      if (seen[i + 2] !== s) same = false;
      seen[i + 2] = s;
    }
    return same;
  }

  /** C-I3, C-I5 and C-I8. */
  #clientStates(id: string, up: Upstairs): Finding | null {
    let repairing = 0;
    let replacing = 0;
    for (const c of up.clients) {
      const s = c.state;
      if (up.state.kind === 'Disabled') {
        const parked = s.kind === 'Connecting' && s.state === 'WaitConnect' && s.mode === 'New';
        const stopping = s.kind === 'Stopping' && s.reason === 'Disabled';
        if (!parked && !stopping) return { invariant: 'C-I3', message: `${id} is Disabled (${up.state.reason}) but client ${c.index} is ${describe(s)}` };
      }
      // Deactivating keeps Active clients until their final flush is done.
      const allowed = up.state.kind === 'Active' || (up.state.kind === 'Deactivating' && s.kind === 'Active');
      if ((s.kind === 'Active' || s.kind === 'LiveRepair') && !allowed) {
        return { invariant: 'C-I5', message: `${id} is ${up.state.kind} but client ${c.index} is ${s.kind}` };
      }
      if (s.kind === 'LiveRepair') repairing++;
      if ((s.kind === 'Stopping' && s.reason === 'Replacing') || (s.kind === 'Connecting' && s.mode === 'Replaced')) replacing++;
    }
    // One replacement at a time per upstairs (replace refuses a second while one is under way).
    if (replacing > 1) return { invariant: 'C-I8', message: `${id} has ${replacing} clients being replaced at once` };
    if (repairing > 2) return { invariant: 'C-I8', message: `${id} has ${repairing} clients in live repair` };
    if (repairing > 0 && up.repair === null) return { invariant: 'C-I8', message: `${id} has ${repairing} clients in LiveRepair and no repair under way` };
    return null;
  }

  /** C-I7 (and C-I11's block comparison): reconciliation just ended and the upstairs went Active. */
  #reconciled(id: string, up: Upstairs): Finding | null {
    const regions = up.clients.map((c) => this.#world.region(c.address));
    for (let e = 0; e < up.region.extentCount; e++) {
      const metas = regions.map((r) => r.extents[e]!);
      const first = metas[0]!;
      if (metas.some((m) => m.gen !== first.gen || m.flush !== first.flush || m.dirty)) {
        return { invariant: 'C-I7', message: `${id} went Active but extent ${e} differs: ${metas.map((m) => `(gen ${m.gen}, flush ${m.flush}${m.dirty ? ', dirty' : ''})`).join(' ')}` };
      }
    }
    return this.#landing?.reconciled(id, up.clients.map((c) => c.address)) ?? null;
  }

  #replies(only: string | null): Finding | null {
    if (only !== null && only !== this.#world.controlId) return null; // replies are counted there
    const control = this.#world.control();
    if (control === null) return null;
    for (const [requestId, r] of control.requests) {
      if (r.replies > 1) return { invariant: 'C-I4', message: `${r.kind === 'activate' ? 'activation' : 'deactivation'} request ${requestId} to ${r.upstairs} was answered ${r.replies} times` };
    }
    return null;
  }

  /** C-I9, only where a block can have changed: a Write just delivered rewrites one block; a
   *  repair (its ExtentData delivered) replaces a whole extent, and re-baselines the downstairs. */
  #blockGenerations(id: string, step: StepRecord): Finding | null {
    if (step.kind !== 'deliver') return null;
    const message = step.message as { type?: string; message?: UpstairsMessage } | null;
    if (message?.type === 'ExtentData') return this.#rebaseline(id);
    const m = message?.type === 'Frame' ? message.message : undefined;
    if (m?.type !== 'Write') return null;
    const region = this.#world.region(id);
    const data = region.extents[m.extent]?.blocks[m.block];
    if (data == null) return null;
    const seenGens = this.#seenGens(id);
    const i = m.extent * region.definition.blocksPerExtent + m.block;
    const seen = seenGens[i] ?? 0;
    if (data.gen < seen) return { invariant: 'C-I9', message: `${id} extent ${m.extent} block ${m.block}: a generation ${data.gen} write overwrote generation ${seen} data` };
    seenGens[i] = data.gen;
    return null;
  }

  #rebaseline(id: string): null {
    const region = this.#world.region(id);
    const seenGens = this.#seenGens(id);
    const perExtent = region.definition.blocksPerExtent;
    for (let e = 0; e < region.extents.length; e++) {
      const blocks = region.extents[e]!.blocks;
      for (let b = 0; b < blocks.length; b++) seenGens[e * perExtent + b] = blocks[b]?.gen ?? 0;
    }
    return null;
  }

  #seenGens(id: string): number[] {
    let seenGens = this.#blockGen.get(id);
    if (seenGens === undefined) this.#blockGen.set(id, (seenGens = []));
    return seenGens;
  }

  /** C-I10: feed the register what a guest's step added to its history. */
  #guestHistory(node: string): Finding | null {
    if (this.#register === null) return null;
    const g = this.#world.guest?.(node) ?? null;
    return g === null ? null : this.#register.catchUp(node, g.history);
  }
}

function describe(s: { kind: string; state?: string; mode?: string; reason?: string }): string {
  return s.kind === 'Connecting' ? `Connecting{${s.state}, ${s.mode}}` : s.kind === 'Stopping' ? `Stopping(${s.reason})` : s.kind;
}
