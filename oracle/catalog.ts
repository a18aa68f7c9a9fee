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
    text: 'virtual provisioning totals add up and never go negative; an instance is charged exactly when it has an active VMM, outside the sagas working on it',
  },
  { id: 'O-L1', kind: 'liveness', text: 'after heal, no instance keeps a terminal active VMM, no updater lock is held and no saga is left unfinished' },
  { id: 'O-L2', kind: 'liveness', text: 'after heal, every VMM record no instance holds is deleted, and Failed instances that may auto-restart and are meant to run are restarted' },
  {
    id: 'O-L3',
    kind: 'liveness',
    text: "after heal, the user's requests finish and each instance settles where the user last asked (stop: NoVmm, start: Running, delete: deleted)",
  },
  { id: 'PANIC', kind: 'engine', text: 'protocol code threw (a failed assertion or a bug), reported like a Crucible panic' },
  { id: 'DETERMINISM', kind: 'engine', text: 'protocol code used wall-clock time, ambient randomness or real timers during a run' },
  { id: 'BOUND-STEPS', kind: 'engine', text: 'the run hit its step bound: an event storm or a livelock' },
];
