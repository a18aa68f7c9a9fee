// Liveness goals of Crucible, checked once every fault has healed.
// C-I4  Every activation request has been answered (exactly once: twice is a safety violation),
//       unless the upstairs restarted before answering it, or another upstairs was since given
//       a higher generation (the downstairs then refuse this one for good).
// C-L1  The upstairs activated at the highest generation is Active.
// C-L2  All three of its clients are Active again (Offline and Faulted clients came back).
// C-L4  An upstairs another one took over from is Disabled, or at least has no client that could
//       still do IO (a takeover it never heard of leaves it retrying, harmlessly).
// C-I9  (its durability half) Every write a guest saw succeed and then flushed survives on at
//       least two downstairs, unless a later write to the same block replaced it.

import type { Finding } from '../sim/runner.ts';
import type { CrucibleWorld } from './crucible-world.ts';

export function crucibleLivenessGoal(world: CrucibleWorld): Finding | null {
  const control = world.control();
  if (control === null) return { invariant: 'C-I4', message: 'the control plane is down' };
  let owner: string | null = null;
  let topGen = -1;
  for (const a of control.script) {
    if (a.gen > topGen && a.refused !== true) {
      topGen = a.gen;
      owner = a.upstairs;
    }
  }
  for (const [requestId, r] of control.requests) {
    // Superseded: another upstairs got a higher generation, so the downstairs refuse this one for
    // good and its GoActive waits forever (Nexus would tear that Propolis down).
    const superseded = r.upstairs !== owner && r.gen < topGen;
    if (r.replies === 0 && !r.lostInCrash && !superseded) return { invariant: 'C-I4', message: `activation request ${requestId} to ${r.upstairs} at generation ${r.gen} was never answered` };
  }
  for (const id of world.upstairsIds) {
    const p = world.upstairs(id);
    if (p === null) return { invariant: 'C-L1', message: `${id} is down` };
    const up = p.upstairs;
    if (id === owner) {
      if (up.state.kind !== 'Active') return { invariant: 'C-L1', message: `${id}, activated at generation ${topGen}, is ${up.state.kind}` };
      const idle = up.clients.find((c) => c.state.kind !== 'Active');
      if (idle !== undefined) return { invariant: 'C-L2', message: `${id}'s client ${idle.index} is ${idle.state.kind}, not back to Active` };
    } else if (up.state.kind !== 'Disabled' && up.state.kind !== 'Initializing' && up.clients.some((c) => c.state.kind === 'Active')) {
      return { invariant: 'C-L4', message: `${id} was taken over at generation ${topGen} but is ${up.state.kind} with active clients` };
    }
  }
  for (const g of world.guests()) if (!g.done()) return { invariant: 'C-L1', message: 'a guest has IO left to do' };
  return durableWritesSurvive(world);
}

function durableWritesSurvive(world: CrucibleWorld): Finding | null {
  const issued = new Map<string, number>();
  for (const g of world.guests()) for (const [id, n] of g.issued) issued.set(id, n);
  for (const g of world.guests()) {
    for (const w of g.acked.values()) {
      if (!w.durable) continue;
      let holding = 0;
      for (const ds of world.downstairsIds) {
        const data = world.region(ds).extents[w.extent]!.blocks[w.block];
        if (data != null && (data.writeId === w.writeId || supersedes(data.writeId, w, issued))) holding++;
      }
      if (holding < 2) return { invariant: 'C-I9', message: `write ${w.writeId} to extent ${w.extent} block ${w.block} was acknowledged and flushed but survives on ${holding} downstairs` };
    }
  }
  return null;
}

/** A later write by the same guest, or any write by another guest (two upstairs take turns: the
 *  newer one's writes land last, and one landing out of generation order is C-I9's safety half). */
function supersedes(writeId: string, w: { readonly writeId: string; readonly issued: number }, issued: ReadonlyMap<string, number>): boolean {
  if (writerOf(writeId) !== writerOf(w.writeId)) return true;
  return (issued.get(writeId) ?? 0) > w.issued;
}

function writerOf(writeId: string): string {
  return writeId.slice(0, writeId.indexOf('/'));
}
