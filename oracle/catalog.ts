// Every invariant and liveness goal stairwell checks, with what it means. `stairwell list` prints
// this; scenarios name the ids they check.

export interface InvariantInfo {
  readonly id: string;
  readonly kind: 'safety' | 'liveness' | 'engine';
  readonly text: string;
}

export const INVARIANTS: readonly InvariantInfo[] = [
  { id: 'O-I1', kind: 'safety', text: 'VMM generations never go down; a VMM state write lands only with a higher generation' },
  { id: 'O-I2', kind: 'safety', text: 'an instance is in state Vmm exactly when it has an active VMM; its active and target VMMs are not deleted' },
  { id: 'O-I3', kind: 'safety', text: 'updater_gen never goes down; a held updater lock belongs to a saga that is running or unwinding' },
  { id: 'O-I4', kind: 'safety', text: 'state_generation moves only with the runtime state, and by exactly one per write' },
  {
    id: 'O-I5',
    kind: 'safety',
    text: "a sled-agent says 'no such instance' for a VMM it had only once the database shows it terminal at a generation >= its last published one (unless a crash lost it or Nexus had it unregistered)",
  },
  {
    id: 'O-I6',
    kind: 'safety',
    text: "an instance never becomes Failed after its user's last request was stop, unless a crash of a sled-agent that hosted one of its VMMs explains it",
  },
  {
    id: 'O-I7',
    kind: 'safety',
    text: 'virtual provisioning totals add up and never go negative; an instance is charged exactly when it has an active VMM, outside the sagas working on it (one whose active VMM is gone may already be uncharged: an update saga releases the charge before it commits, with no undo)',
  },
  { id: 'O-L1', kind: 'liveness', text: 'after heal, no instance keeps a terminal active VMM, no updater lock is held and no saga is left unfinished' },
  { id: 'O-L2', kind: 'liveness', text: 'after heal, every VMM record no instance holds is deleted, and Failed instances that may auto-restart and are meant to run are restarted' },
  {
    id: 'O-L3',
    kind: 'liveness',
    text: "after heal, the user's requests finish and each instance settles where the user last asked (stop: NoVmm, start: Running, delete: deleted)",
  },
  { id: 'O-L4', kind: 'liveness', text: "after heal, each sled-agent's VMM table agrees with the database: no VMM runs that the database deleted or no instance holds, no Destroyed VMM is kept once the database has it" },
  { id: 'O-L5', kind: 'liveness', text: 'after heal, every saga outcome is whole: no instance keeps a migration id, an unwound start or migration left no VMM registered and an unwound start no charge' },
  { id: 'C-I1', kind: 'safety', text: 'a read-write downstairs has at most one active upstairs, and its active generation never goes down' },
  { id: 'C-I2', kind: 'safety', text: 'once YouAreNoLongerActive is sent on a connection, no IO from it runs' },
  { id: 'C-I3', kind: 'safety', text: 'a Disabled upstairs has every client Stopping(Disabled) or parked in Connecting{New, WaitConnect}' },
  { id: 'C-I4', kind: 'safety', text: 'every activation or deactivation request gets exactly one reply (never two; after heal, one, unless its upstairs restarted or another was since given a higher generation)' },
  { id: 'C-I5', kind: 'safety', text: 'client states follow §1.3 (asserted by the upstairs); clients are Active only while the upstairs is' },
  { id: 'C-I7', kind: 'safety', text: 'when reconciliation ends, the three regions agree: equal (gen, flush) everywhere, nothing dirty' },
  { id: 'C-I8', kind: 'safety', text: 'live repair never has three clients repairing, and always an Active source; at most one client of an upstairs is being replaced at a time' },
  { id: 'C-I9', kind: 'safety', text: 'no block is overwritten by a lower-generation write (repairs exempt); an acknowledged, flushed write survives on two downstairs' },
  {
    id: 'C-I10',
    kind: 'safety',
    text: "every read a guest saw succeed returns what its history allows: the last write acknowledged in the same epoch or flushed, or one in flight or of unknown outcome; otherwise the guest reads stale, lost or never-written data",
  },
  {
    id: 'C-I11',
    kind: 'safety',
    text: 'IO and repairs land on a downstairs only through its open, active connection; a repaired extent equals its source, and reconciliation leaves the three regions equal block for block; otherwise a replica silently holds other data than its peers',
  },
  { id: 'C-L1', kind: 'liveness', text: 'after heal, the upstairs activated at the highest generation is Active' },
  { id: 'C-L2', kind: 'liveness', text: "after heal, all three of that upstairs' clients are Active again" },
  { id: 'C-L3', kind: 'liveness', text: 'after heal, every replacement asked for was accepted and its new target is an Active client' },
  { id: 'C-L4', kind: 'liveness', text: 'after heal, an upstairs taken over from is Disabled or has no client that could do IO' },
  {
    id: 'C-L5',
    kind: 'liveness',
    text: "after heal, the active upstairs' three downstairs agree block for block, and with what the guest last had acknowledged and flushed; otherwise what a read returns depends on which downstairs answers, or the guest's data is gone",
  },
  { id: 'P-I1', kind: 'safety', text: 'every VCR request a Propolis queue took gets exactly one reply (the driver\'s, or 410 when the VM goes), and only those get one' },
  { id: 'P-I2', kind: 'safety', text: "a Propolis queue awaits a reboot, migration out or stop only while it is queued or being carried out (completions' preconditions asserted: a broken one is a PANIC)" },
  { id: 'P-I3', kind: 'safety', text: 'at most one Propolis state request of each kind is outstanding' },
  { id: 'P-I4', kind: 'safety', text: "MigratedOut, Stopped and Failed are absorbing: a Propolis queue never leaves them" },
  { id: 'P-I5', kind: 'safety', text: 'Propolis publishes Running only when every backend is active' },
  { id: 'P-I7', kind: 'safety', text: "a Propolis VM's spec stores, for each disk, the VCR last applied to it" },
  { id: 'P-I8', kind: 'safety', text: 'Propolis publishes its states in its own sequences, one generation each (Creating, Starting, Running | Stopped, Destroyed; Running, Rebooting, Running; Stopping, Stopped, Destroyed; Failed at the end)' },
  { id: 'P-L1', kind: 'liveness', text: 'after heal, a VM the user last asked to run is not left starting: a start blocked on a dead downstairs is rescued by the replacement VCR' },
  { id: 'P-L2', kind: 'liveness', text: 'after heal, a Stop a Propolis VM accepted has ended it (Destroyed), even if activation never completed' },
  { id: 'P-L3', kind: 'liveness', text: 'after heal, every VM a Propolis holds is the live VMM its sled-agent tracks there (no zone left behind)' },
  { id: 'R-L1', kind: 'liveness', text: "after heal, no live volume names a downstairs dead for good, and every region replacement of a running instance's disk is Complete" },
  { id: 'V-I1', kind: 'safety', text: 'every region, read-only region and region snapshot a live volume names exists and is not being deleted (validate_volume_invariants)' },
  { id: 'V-I2', kind: 'safety', text: 'the targets of every region set are distinct' },
  { id: 'V-I3', kind: 'safety', text: 'usage rows name live records of their kind: a read-only region is never counted as a region snapshot' },
  { id: 'V-I4', kind: 'safety', text: "reference counts are exact: a read-only target's usage rows are exactly the live volumes naming it" },
  { id: 'V-I5', kind: 'safety', text: 'replacement requests and steps move only along the protocol\'s edges; every volume_repair lock is held by an unfinished request or step (or a snapshot being taken); at most one unfinished step per volume, never on a stash' },
  { id: 'V-I6', kind: 'safety', text: "while a request is ReplacementDone, DeletingOldVolume or Running and its old target still exists, its new region exists and is not being deleted" },
  { id: 'V-I7', kind: 'safety', text: 'a Complete request has every step VolumeDeleted and no live volume names its target' },
  { id: 'V-L1', kind: 'liveness', text: 'after heal, every region snapshot replacement is Complete, no saga is unfinished, and the instance the user left running is Running' },
  { id: 'V-L2', kind: 'liveness', text: 'after heal, no live volume names a read-only target on an expunged disk' },
  { id: 'V-L3', kind: 'liveness', text: 'after heal, once the user deleted everything, no region, region snapshot, usage row or live volume is left, and no agent that is up keeps a region or read-only downstairs' },
  { id: 'PANIC', kind: 'engine', text: 'protocol code threw (a failed assertion or a bug), reported like a Crucible panic; this is C-I6 (no panic in any reachable state) and P-I6 (nothing but Stop and VCR taken off the queue during a start: the driver calls anything else unreachable)' },
  { id: 'DETERMINISM', kind: 'engine', text: 'protocol code used wall-clock time, ambient randomness or real timers during a run' },
  { id: 'BOUND-STEPS', kind: 'engine', text: 'the run hit its step bound: an event storm or a livelock' },
];
