// Liveness goals of Crucible, checked once every fault has healed.
// C-I4  Every activation request has been answered (exactly once: twice is a safety violation),
//       unless the upstairs restarted before answering it, or another upstairs was since given
//       a higher generation (the downstairs then refuse this one for good).
// C-L1  The upstairs activated at the highest generation is Active.
// C-L2  All three of its clients are Active again (Offline and Faulted clients came back).
// C-L3  Every replacement the control plane asked for was accepted, and the new target is an
//       Active client of its upstairs.
// C-L4  An upstairs another one took over from is Disabled, or at least has no client that could
//       still do IO (a takeover it never heard of leaves it retrying, harmlessly).
// C-I9  (its durability half) Every write a guest saw succeed and then flushed survives on at
//       least two downstairs, unless a later write to the same block replaced it.

import { isAccepted } from '../model/crucible/control-replace.ts';
import type { ControlProcess } from '../model/crucible/control-plane.ts';
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
    const what = r.kind === 'activate' ? `activation request ${requestId} to ${r.upstairs} at generation ${r.gen}` : `deactivation request ${requestId} to ${r.upstairs}`;
    if (r.replies === 0 && !r.lostInCrash && !superseded) return { invariant: 'C-I4', message: `${what} was never answered` };
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
  const targets = owner === null ? world.downstairsIds : world.upstairs(owner)!.upstairs.clients.map((c) => c.address);
  return replacementsDone(world, control) ?? durableWritesSurvive(world, targets);
}

function replacementsDone(world: CrucibleWorld, control: ControlProcess): Finding | null {
  for (const { replacement: r, result } of control.replacements) {
    if (!isAccepted(result)) return { invariant: 'C-L3', message: `replacing ${r.old} with ${r.new} in ${r.upstairs} was never accepted (last answer: ${result ?? 'none'})` };
    const up = world.upstairs(r.upstairs)?.upstairs;
    if (up === undefined || up.state.kind !== 'Active') continue; // not the owner: C-L1/C-L4 speak for it
    const client = up.clients.find((c) => c.address === r.new);
    if (client === undefined) return { invariant: 'C-L3', message: `${r.upstairs} accepted replacing ${r.old} with ${r.new} but does not target ${r.new}` };
    if (client.state.kind !== 'Active') return { invariant: 'C-L3', message: `${r.upstairs}'s replacement target ${r.new} is ${client.state.kind}, not Active` };
  }
  return null;
}

/** Counted on the owner's current targets: a replaced downstairs no longer counts. */
function durableWritesSurvive(world: CrucibleWorld, targets: readonly string[]): Finding | null {
  const issued = new Map<string, number>();
  for (const g of world.guests()) for (const [id, n] of g.issued) issued.set(id, n);
  for (const g of world.guests()) {
    for (const w of g.acked.values()) {
      if (!w.durable) continue;
      let holding = 0;
      for (const ds of targets) {
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
