// Safety invariants of Propolis (docs/protocols.md, scenario `propolis-start`), checked after every step of a
// Propolis process (a VM's state changes only in its own steps, or by a crash).
// P-I1  Every VCR request the queue took gets one reply, and only those get one (a second
//       reply is a PANIC where it would be sent).
// P-I2  The queue's flags match the driver: a reboot, a migration out or a stop is awaited only
//       while it is queued or being carried out (the completions' own preconditions are
//       asserted in the queue: a broken one is a PANIC).
// P-I3  At most one request of each state kind is outstanding (queued or being carried out).
// P-I4  MigratedOut, Stopped and Failed are absorbing: the queue never leaves them.
// P-I5  Running is published only when every backend is active.
// P-I6  Nothing but a Stop or a VCR is taken off the queue while a start is under way (the driver
//       treats anything else as unreachable: a PANIC).
// P-I7  The spec stores, for each disk, the VCR last applied to it.
// P-I8  Publications follow Propolis' sequences, one generation each: Creating -> Starting ->
//       Running | Stopped -> Destroyed (or Failed); Running -> Stopping | Rebooting; Rebooting ->
//       Running; Stopping -> Stopped; Stopped -> Destroyed; Destroyed and Failed end it. A migration
//       target: Migrating (its Finish one generation up) -> Running | Stopped | Failed.
// Also C-I4 for the upstairs inside: no activation request is answered twice.

import type { PropolisState } from '../model/propolis/api.ts';
import type { Vm } from '../model/propolis/vm.ts';
import type { Finding } from '../sim/runner.ts';
import type { SendObserver, StepRecord } from '../sim/simulator.ts';
import type { PropolisWorld } from './propolis-world.ts';

/** P-I8: the states each published state may be followed by (itself: a migration update). */
const NEXT: Readonly<Record<PropolisState, readonly PropolisState[]>> = {
  Creating: ['Starting', 'Running', 'Stopping', 'Failed'],
  Starting: ['Running', 'Stopped', 'Failed'],
  Running: ['Running', 'Stopping', 'Rebooting'],
  Rebooting: ['Running'],
  Stopping: ['Stopped'],
  Stopped: ['Destroyed'],
  Migrating: ['Migrating', 'Running', 'Stopping', 'Stopped', 'Failed'],
  Failed: [],
  Destroyed: [],
};

interface VmMemory {
  readonly vm: Vm;
  checkedPublications: number;
  terminal: string | null;
}

export class PropolisSafety implements SendObserver {
  readonly #world: PropolisWorld;
  readonly #memory = new Map<string, VmMemory>();
  /** Which Propolis each VMM was given to, from the sled-agent's instance_ensure calls. */
  readonly hostOf = new Map<string, string>();
  /** VMMs whose Propolis reported Failed: a VM that failed by itself. */
  readonly failedOnItsOwn = new Set<string>();
  readonly #requestVmm = new Map<string, string>();

  constructor(world: PropolisWorld) {
    this.#world = world;
  }

  onSend(from: string, to: string, message: unknown, envelope: string): void {
    const m = message as { type?: string; vmmId?: string; state?: { state?: string } };
    if (from === this.#world.sledId && envelope === 'req' && m.type === 'InstanceEnsure' && m.vmmId !== undefined) this.hostOf.set(m.vmmId, to);
    if (from === this.#world.sledId && envelope === 'req' && m.type === 'InstanceStateMonitor' && m.vmmId !== undefined) this.#requestVmm.set(to, m.vmmId);
    if (to === this.#world.sledId && envelope === 'rep' && m.type === 'State' && m.state?.state === 'Failed') {
      const vmmId = this.#requestVmm.get(from);
      if (vmmId !== undefined) this.failedOnItsOwn.add(vmmId);
    }
  }

  afterStep(step: StepRecord): Finding | null {
    for (const id of this.#world.propolisIds) {
      if (step.kind !== 'action' && step.node !== id) continue;
      const vm = this.#world.propolis(id)?.vm() ?? null;
      if (vm === null) continue;
      const finding = this.#checkVm(id, vm);
      if (finding !== null) return finding;
    }
    return null;
  }

  #checkVm(propolis: string, vm: Vm): Finding | null {
    const key = `${propolis}/${vm.epoch}`;
    let memory = this.#memory.get(key);
    if (memory === undefined || memory.vm !== vm) this.#memory.set(key, (memory = { vm, checkedPublications: 0, terminal: null }));
    const where = `${propolis} VM ${vm.vmmId}`;
    return this.#publications(where, memory) ?? this.#queue(where, memory) ?? this.#replies(where, vm);
  }

  #publications(where: string, memory: VmMemory): Finding | null {
    const pubs = memory.vm.publications;
    for (let i = Math.max(1, memory.checkedPublications); i < pubs.length; i++) {
      const [before, now] = [pubs[i - 1]!, pubs[i]!];
      if (now.gen !== before.gen + 1) return { invariant: 'P-I8', message: `${where} published gen ${now.gen} after gen ${before.gen}` };
      if (!NEXT[before.state].includes(now.state)) return { invariant: 'P-I8', message: `${where} published ${now.state} after ${before.state}` };
      if (now.state === 'Running' && before.state !== 'Running' && !now.backendsActive) return { invariant: 'P-I5', message: `${where} published Running (gen ${now.gen}) with a backend not active` };
    }
    memory.checkedPublications = pubs.length;
    return null;
  }

  #queue(where: string, memory: VmMemory): Finding | null {
    const vm = memory.vm;
    const q = vm.queue;
    // Run down: the queue went with the VM's objects (drained, its flags as they were), so a Stop
    // accepted in the moment before a failed start is no longer anywhere, and need not be.
    if (vm.rundown === 'Complete') return null;
    if (memory.terminal !== null && q.state !== memory.terminal) return { invariant: 'P-I4', message: `${where}: its queue left ${memory.terminal} for ${q.state}` };
    if (q.terminal) {
      memory.terminal ??= q.state;
      return null; // the flags of a terminal queue no longer mean anything (notify_stopped leaves them)
    }
    const kinds = ['Start', 'Stop', 'Reboot', 'MigrateAsSource'] as const;
    for (const kind of kinds) {
      const outstanding = q.stateQueue.filter((r) => r.kind === kind).length + (vm.inProgress === kind ? 1 : 0);
      if (outstanding > 1) return { invariant: 'P-I3', message: `${where} has ${outstanding} ${kind} requests outstanding` };
    }
    const awaited: readonly [boolean, (typeof kinds)[number]][] = [
      [q.awaitReboot, 'Reboot'],
      [q.awaitMigrationOut, 'MigrateAsSource'],
      [q.awaitStop, 'Stop'],
    ];
    for (const [flag, kind] of awaited) {
      if (flag && vm.inProgress !== kind && !q.stateQueue.some((r) => r.kind === kind)) {
        return { invariant: 'P-I2', message: `${where}: its queue awaits a ${kind} that is neither queued nor being carried out (queue ${q.state})` };
      }
    }
    return null;
  }

  #replies(where: string, vm: Vm): Finding | null {
    for (const requestId of vm.vcrReplies.keys()) {
      if (!vm.vcrAccepted.has(requestId)) return { invariant: 'P-I1', message: `${where} answered VCR request ${requestId}, which its queue never took` };
    }
    for (const [backendId, backend] of vm.backends) {
      if (backend.vcr !== vm.lastApplied.get(backendId)) return { invariant: 'P-I7', message: `${where}: the spec's VCR for ${backendId} is not the one last applied` };
      for (const p of backend.upstairs) {
        for (const [requestId, n] of p.upstairs.answered) if (n > 1) return { invariant: 'C-I4', message: `${where}: the upstairs of ${backendId} answered ${requestId} ${n} times` };
      }
    }
    return null;
  }
}
