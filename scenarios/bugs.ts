// The bug registry: every switch that restores a historical (or planted) behaviour, where it came
// from, the scenario that exposes it, and the invariant that should catch it.

export interface BugEntry {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  /** The scenario that exposes it (the museum and the tests sweep this one). */
  readonly scenario: string;
  /**
   * Every scenario whose code reads the switch: a run of any other scenario is the fixed protocol
   * whatever the switch, so naming it there is refused (exit 2) rather than silently ignored.
   */
  readonly appliesTo: readonly string[];
  readonly invariant: string;
  /** Seeds (1..N) a sweep needs to find it, when more than the usual 2000: a rare race. */
  readonly sweepSeeds?: number;
}

/** The scenarios built on the instance world (Nexus, CockroachDB, sled-agents) and on the Crucible world. */
const INSTANCE_WORLD = ['instance-lifecycle', 'instance-migration'] as const;
const CRUCIBLE_WORLD = ['crucible-activation', 'crucible-takeover', 'crucible-replacement'] as const;

export const BUGS: readonly BugEntry[] = [
  {
    id: 'sled-agent/remove-before-notify',
    title: 'the simulated sled-agent removes a Destroyed VMM from its table before Nexus has that state',
    source: 'omicron#7282 (test_disk_move_between_instances flake); RFD 486 §6.1',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-I5',
  },
  {
    id: 'nexus/no-updater-lock',
    title: 'instance-update sagas run without the updater lock: two see one snapshot, and the second releases the provisioning of the instance the user restarted in between',
    source: 'omicron#5749 (the instance-update saga), #5831 (the updater lock)',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-I7',
  },
  {
    id: 'nexus/lock-in-runtime-state',
    title: "the updater lock's fields travel with the runtime state, so a saga writing the runtime it read writes back the lock as it read it",
    source: 'omicron#5831 (why the lock lives apart from the runtime state)',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-I3',
  },
  {
    id: 'nexus/unwind-clears-vmm-ids',
    title: 'an unwinding start saga clears the instance\'s VMM id itself instead of marking its VMM SagaUnwound, leaving a VMM record nothing will ever clean up',
    source: 'omicron#5858 (SagaUnwound)',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-L2',
  },
  {
    id: 'nexus/start-undo-releases-any-charge',
    title: "an unwinding start saga releases the instance's virtual provisioning whoever charged it, so a start that lost a race releases the charge of the start that won",
    source: 'found by stairwell: omicron sis_account_virtual_resources_undo calls virtual_provisioning_collection_delete_instance keyed by instance id alone (newest stored version; an older one had a generation guard); not reported upstream',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-I7',
    sweepSeeds: 5000, // first failing seed 4975 (1734 before fifo links stopped reordering ties)
  },
  {
    id: 'nexus/mark-failed-any-state',
    title: "Nexus's synthesized Failed (watcher or stop 404) overwrites a Destroyed or Creating VMM",
    source: 'omicron b848b6df85 mark_vmm_failed writes Failed at gen+1 whatever the VMM state; found by stairwell, not reported upstream',
    scenario: 'instance-lifecycle',
    appliesTo: INSTANCE_WORLD,
    invariant: 'O-I6',
  },
  {
    id: 'crucible/disable-one-client',
    title: 'on YouAreNoLongerActive or UuidMismatch the upstairs disables only the offending client and goes back to Initializing, leaving the other two running and the pending activation unanswered',
    source: 'crucible#1721 (before it: set_inactive plus DownstairsClient::disable); commit 03858b91',
    scenario: 'crucible-takeover',
    appliesTo: CRUCIBLE_WORLD,
    invariant: 'C-I5',
  },
  {
    id: 'crucible/accept-equal-generation',
    title: 'the downstairs promotes a second upstairs session at the generation already active, beside the active one',
    source: 'planted fault (not a historical bug): the equal-generation rule of PromoteToActive (downstairs promote_to_active), so we know the oracle sees split brain',
    scenario: 'crucible-takeover',
    appliesTo: CRUCIBLE_WORLD,
    invariant: 'C-I1',
  },
  {
    id: 'crucible/replace-while-initializing',
    title: 'a replace while the upstairs is Initializing leaves a client Stopping(Replacing); a GoActive that arrives before its task stopped panics',
    source: 'crucible#1716, fixed in #1717 (set_active_request)',
    scenario: 'crucible-replacement',
    appliesTo: CRUCIBLE_WORLD,
    invariant: 'PANIC',
  },
];

export function findBug(id: string): BugEntry | undefined {
  return BUGS.find((b) => b.id === id);
}
