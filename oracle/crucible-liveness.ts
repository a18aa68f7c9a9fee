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
//       least two downstairs, unless a write that may have come after it replaced it.
// C-L5  The owner's three downstairs agree block for block, and each block holds what a read by
//       the guest, now, in the owner's epoch, could return (crucible-register.ts): nothing the
//       guest had acknowledged and flushed is missing, nothing it never wrote is there.

import { isAccepted } from '../model/crucible/control-replace.ts';
import type { ControlProcess } from '../model/crucible/control-plane.ts';
import { epochOf } from '../model/crucible/guest.ts';
import type { Finding } from '../sim/runner.ts';
import { blockKey, type GuestRegister } from './crucible-register.ts';
import type { CrucibleWorld } from './crucible-world.ts';

export function crucibleLivenessGoal(world: CrucibleWorld, register: GuestRegister): Finding | null {
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
  // Only the owner's guest must finish: one whose upstairs was taken over waits out a timeout per
  // request against a disk that is gone (24 of them can outlast the settle phase).
  const mustFinish = owner === null ? world.guests() : world.guests().filter((_, i) => world.upstairsIds[i] === owner);
  if (mustFinish.some((g) => !g.done())) return { invariant: 'C-L1', message: `${owner ?? 'an upstairs'}'s guest has IO left to do` };
  const targets = owner === null ? world.downstairsIds : world.upstairs(owner)!.upstairs.clients.map((c) => c.address);
  // The history is taken here too, not only by the safety checks, so the goals stand on their own
  // (the benchmark runs them with the per-step checks off); a read it cannot explain is C-I10's.
  for (const id of world.guestIds ?? []) {
    const g = world.guest?.(id) ?? null;
    if (g !== null) register.catchUp(id, g.history);
  }
  return replacementsDone(world, control) ?? durableWritesSurvive(world, targets, register) ?? (owner === null ? null : replicasHoldHistory(world, owner, register));
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
function durableWritesSurvive(world: CrucibleWorld, targets: readonly string[], register: GuestRegister): Finding | null {
  for (const w of register.durableWrites()) {
    let holding = 0;
    for (const ds of targets) {
      const data = world.region(ds).extents[w.extent]!.blocks[w.block];
      if (data != null && (data.writeId === w.writeId || register.mayFollow(data.writeId, w))) holding++;
    }
    if (holding < 2) return { invariant: 'C-I9', message: `write ${w.writeId} to ${w.key} was acknowledged and flushed but survives on ${holding} downstairs` };
  }
  return null;
}

/** C-L5, once the owner is Active with all three clients: every block the same on its three
 *  downstairs (writes still in flight settle it soon), and a value the guest's history allows. */
function replicasHoldHistory(world: CrucibleWorld, owner: string, register: GuestRegister): Finding | null {
  const up = world.upstairs(owner)!.upstairs;
  const regions = up.clients.map((c) => world.region(c.address));
  const epoch = epochOf(up);
  for (let e = 0; e < up.region.extentCount; e++) {
    for (let b = 0; b < up.region.blocksPerExtent; b++) {
      const values = regions.map((r) => r.extents[e]!.blocks[b]?.writeId ?? null);
      if (values.some((v) => v !== values[0])) return { invariant: 'C-L5', message: `${owner}'s downstairs differ at ${blockKey(e, b)}: ${up.clients.map((c, i) => `${c.address} has ${values[i] ?? 'nothing'}`).join(', ')}` };
      const why = register.judge(e, b, values[0] ?? null, epoch);
      if (why !== null) return { invariant: 'C-L5', message: `${owner}'s downstairs hold ${values[0] ?? 'nothing'} at ${blockKey(e, b)} in epoch ${epoch}, but ${why}` };
    }
  }
  return null;
}
