// The bug registry: every switch that restores a historical (or planted) behaviour, where it came
// from, the scenario that exposes it, and the invariant that should catch it.

export interface BugEntry {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly scenario: string;
  readonly invariant: string;
}

export const BUGS: readonly BugEntry[] = [
  {
    id: 'sled-agent/remove-before-notify',
    title: 'the simulated sled-agent removes a Destroyed VMM from its table before Nexus has that state',
    source: 'omicron#7282 (test_disk_move_between_instances flake); RFD 486 §6.1; shared/protocols.md §2.8',
    scenario: 'instance-lifecycle',
    invariant: 'O-I5',
  },
  {
    id: 'nexus/mark-failed-any-state',
    title: "Nexus's synthesized Failed (watcher or stop 404) overwrites a Destroyed or Creating VMM",
    source: 'omicron b848b6df85 mark_vmm_failed writes Failed at gen+1 whatever the VMM state; found by stairwell, not reported upstream',
    scenario: 'instance-lifecycle',
    invariant: 'O-I6',
  },
];

export function findBug(id: string): BugEntry | undefined {
  return BUGS.find((b) => b.id === id);
}
