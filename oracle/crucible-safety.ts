// Safety invariants of Crucible (README, Crucible scenarios), checked after every step.
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
// C-I8  Live repair never has three clients repairing, and always an Active one to copy from.
// C-I7  When reconciliation ends and the upstairs goes Active, the three regions agree: equal
//       (gen, flush) for every extent and nothing dirty.
// C-I9  On every downstairs, no block is overwritten by a write of a lower upstairs generation.
//       A repair replaces a whole extent with its source's copy, rolling back writes that were
//       never flushed: the step that applies one re-baselines that downstairs instead.

import type { DownstairsMessage, Framed } from '../model/crucible/protocol.ts';
import type { Finding } from '../sim/runner.ts';
import type { SendObserver, StepRecord } from '../sim/simulator.ts';
import type { CrucibleWorld } from './crucible-world.ts';

export class CrucibleSafety implements SendObserver {
  readonly #world: CrucibleWorld;
  /** C-I1: per downstairs process, the highest active generation seen. */
  readonly #activeGen = new Map<object, number>();
  /** C-I2: connections told YouAreNoLongerActive, by downstairs. */
  readonly #kicked = new Set<string>();
  /** C-I7: each upstairs' last seen state. */
  readonly #upstairsState = new Map<string, string>();
  /** C-I9: per downstairs, by extent * blocksPerExtent + block, the highest write generation seen. */
  readonly #blockGen = new Map<string, number[]>();
  #pending: Finding | null = null;

  constructor(world: CrucibleWorld) {
    this.#world = world;
  }

  onSend(from: string, to: string, message: unknown): void {
    if (!this.#world.downstairsIds.includes(from)) return;
    const frame = message as Framed<DownstairsMessage>;
    if (frame.type !== 'Frame') return;
    const key = `${from}/${frame.conn}`;
    const m = frame.message;
    if (m.type === 'YouAreNoLongerActive') this.#kicked.add(key);
    else if ((m.type === 'WriteAck' || m.type === 'FlushAck' || m.type === 'ReadResponse') && this.#kicked.has(key)) {
      this.#pending ??= { invariant: 'C-I2', message: `${from} ran IO (${m.type}) for ${to} on a connection it had told YouAreNoLongerActive` };
    }
  }

  afterStep(step: StepRecord): Finding | null {
    const pending = this.#pending;
    this.#pending = null;
    // A node's state changes only in its own steps; a fault or restart (an action) may touch any.
    const only = step.kind === 'action' ? null : step.node;
    const repaired = step.kind === 'deliver' && (step.message as { type?: string } | null)?.type === 'ExtentData' ? step.node : null;
    return pending ?? this.#activeUpstairs(only) ?? this.#upstairsStates(only) ?? this.#replies(only) ?? this.#blockGenerations(only, repaired);
  }

  #activeUpstairs(only: string | null): Finding | null {
    for (const id of this.#world.downstairsIds) {
      if (only !== null && id !== only) continue;
      const ds = this.#world.downstairs(id);
      if (ds === null) continue;
      const active = ds.active();
      if (active.length > 1) {
        return { invariant: 'C-I1', message: `${id} has ${active.length} active upstairs: ${active.map((c) => `${c.node}@gen ${c.gen}`).join(', ')}` };
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
      const p = this.#world.upstairs(id);
      if (p === null) continue;
      const up = p.upstairs;
      const before = this.#upstairsState.get(id);
      this.#upstairsState.set(id, up.state.kind);
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
      }
      let repairing = 0;
      let active = 0;
      for (const c of up.clients) {
        if (c.state.kind === 'LiveRepair') repairing++;
        else if (c.state.kind === 'Active') active++;
      }
      if (repairing > 0 && (repairing > 2 || active === 0)) {
        return { invariant: 'C-I8', message: `${id} has ${repairing} clients in live repair and ${active} Active` };
      }
      if (before === 'GoActive' && up.state.kind === 'Active') {
        const regions = up.clients.map((c) => this.#world.region(c.address));
        for (let e = 0; e < up.region.extentCount; e++) {
          const metas = regions.map((r) => r.extents[e]!);
          const first = metas[0]!;
          if (metas.some((m) => m.gen !== first.gen || m.flush !== first.flush || m.dirty)) {
            return { invariant: 'C-I7', message: `${id} went Active but extent ${e} differs: ${metas.map((m) => `(gen ${m.gen}, flush ${m.flush}${m.dirty ? ', dirty' : ''})`).join(' ')}` };
          }
        }
      }
    }
    return null;
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

  #blockGenerations(only: string | null, repaired: string | null): Finding | null {
    for (const id of this.#world.downstairsIds) {
      if (only !== null && id !== only) continue;
      const region = this.#world.region(id);
      let seenGens = this.#blockGen.get(id);
      if (seenGens === undefined) this.#blockGen.set(id, (seenGens = []));
      const perExtent = region.definition.blocksPerExtent;
      for (let e = 0; e < region.extents.length; e++) {
        const blocks = region.extents[e]!.blocks;
        for (let b = 0; b < blocks.length; b++) {
          const data = blocks[b];
          const i = e * perExtent + b;
          const seen = seenGens[i] ?? 0;
          if (data == null) {
            if (id === repaired) seenGens[i] = 0;
          } else if (data.gen < seen && id !== repaired) {
            this.#pending ??= { invariant: 'C-I9', message: `${id} extent ${e} block ${b}: a generation ${data.gen} write overwrote generation ${seen} data` };
          } else {
            seenGens[i] = data.gen;
          }
        }
      }
    }
    const found = this.#pending;
    this.#pending = null;
    return found;
  }
}

function describe(s: { kind: string; state?: string; mode?: string; reason?: string }): string {
  return s.kind === 'Connecting' ? `Connecting{${s.state}, ${s.mode}}` : s.kind === 'Stopping' ? `Stopping(${s.reason})` : s.kind;
}
