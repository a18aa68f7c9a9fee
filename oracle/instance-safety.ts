// Safety invariants of the instance lifecycle (docs/protocols.md, scenario `instance-lifecycle`), checked after every step.
// O-I1  VMM generations never go down, and a VMM's state never changes without a higher one.
// O-I5  When a sled-agent answers "no such instance" for a VMM it once had, the database already
//       shows that VMM terminal at a generation at least the last one the sled-agent published,
//       unless a crash of that sled-agent lost the VMM or it unregistered the VMM at Nexus's
//       request (an unwinding start). Checked when the sled-agent answers.
// O-I6  An instance never becomes Failed after its user's last request was stop, unless a fault
//       explains it (a crash of a sled-agent that hosted one of its VMMs; see instance-world.ts).
// All of them, and the record invariants of instance-records.ts, look at the database only when a
// write has committed since the last step.

import { isTerminal, type InstanceState, type VmmState } from '../model/common/vmm-state.ts';
import type { Tables } from '../model/crdb/tables.ts';
import type { NexusRequest } from '../model/nexus/api.ts';
import type { SledAgentReply } from '../model/sled-agent/api.ts';
import type { Finding } from '../sim/runner.ts';
import type { SendObserver, StepRecord } from '../sim/simulator.ts';
import { InstanceRecords } from './instance-records.ts';
import { crashThatLostVmm, faultExplainingFailure, type InstanceWorld } from './instance-world.ts';

export class InstanceSafety implements SendObserver {
  readonly #world: InstanceWorld;
  /** O-I1's memory: each VMM's last seen (gen, state). */
  readonly #seen = new Map<string, { gen: number; state: VmmState }>();
  /** O-I6's memory: each instance's last seen state. */
  readonly #instanceStates = new Map<string, InstanceState>();
  #seenWrites = -1;
  /** O-I5's memory: the highest generation each VMM's sled-agent has sent to Nexus. */
  readonly #published = new Map<string, number>();
  readonly #records = new InstanceRecords();
  /** VMMs a sled-agent unregistered at Nexus's request: gone on purpose, not "missing". */
  readonly #unregistered = new Set<string>();
  /** A violation seen while a message was sent, reported after the step. */
  #pending: Finding | null = null;

  constructor(world: InstanceWorld) {
    this.#world = world;
  }

  onSend(from: string, _to: string, message: unknown, envelope: string): void {
    if (!this.#world.sledIds.includes(from)) return;
    if (envelope === 'req') {
      const m = message as NexusRequest;
      if (m.type === 'CpapiVmmPut') this.#published.set(m.vmmId, Math.max(this.#published.get(m.vmmId) ?? 0, m.state.vmmState.gen));
    } else if (envelope === 'rep') {
      const reply = message as SledAgentReply;
      if (reply.type === 'VmmUnregistered') this.#unregistered.add(reply.vmmId);
      else if (reply.type === 'NoSuchInstance') this.#pending ??= this.#noSuchInstance(from, reply.vmmId);
    }
  }

  afterStep(_step: StepRecord): Finding | null {
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) return pending;
    const tables = this.#world.tables();
    if (tables.writes === this.#seenWrites) return null;
    this.#seenWrites = tables.writes;
    return this.#vmmGenerations(tables) ?? this.#stoppedNotFailed(tables) ?? this.#records.check(tables);
  }

  #vmmGenerations(tables: Tables): Finding | null {
    for (const row of tables.vmm.values()) {
      const prev = this.#seen.get(row.id);
      if (prev !== undefined) {
        if (row.gen < prev.gen) return { invariant: 'O-I1', message: `VMM ${row.id} generation went down: ${prev.gen} -> ${row.gen}` };
        if (row.gen === prev.gen && row.state !== prev.state) {
          return { invariant: 'O-I1', message: `VMM ${row.id} changed ${prev.state} -> ${row.state} without a higher generation (gen ${row.gen})` };
        }
        if (row.gen === prev.gen) continue;
      }
      this.#seen.set(row.id, { gen: row.gen, state: row.state });
    }
    return null;
  }

  #noSuchInstance(sledId: string, vmmId: string): Finding | null {
    const published = this.#published.get(vmmId);
    if (published === undefined || this.#unregistered.has(vmmId)) return null; // never there, or removed on purpose
    const row = this.#world.tables().vmm.get(vmmId);
    if (row === undefined || crashThatLostVmm(this.#world, row) !== null) return null;
    if (isTerminal(row.state) && row.gen >= published) return null;
    return {
      invariant: 'O-I5',
      message: `${sledId} says VMM ${row.id} does not exist, but the database shows it ${row.state} at gen ${row.gen} and the sled-agent last published gen ${published}: it left the table before its final state reached Nexus`,
    };
  }

  #stoppedNotFailed(tables: Tables): Finding | null {
    const user = this.#world.user();
    for (const row of tables.instance.values()) {
      const before = this.#instanceStates.get(row.id);
      if (before === row.state) continue;
      this.#instanceStates.set(row.id, row.state);
      if (row.state !== 'Failed' || user?.lastAsked.get(row.id) !== 'stop') continue;
      if (faultExplainingFailure(this.#world, row.id) !== null) continue;
      return { invariant: 'O-I6', message: `instance ${row.id} became Failed after the user's last request, stop, and no fault explains it` };
    }
    return null;
  }
}
