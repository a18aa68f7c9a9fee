// Every invariant and liveness goal stairwell checks, with what it means. `stairwell list` prints
// this; scenarios name the ids they check.

export interface InvariantInfo {
  readonly id: string;
  readonly kind: 'safety' | 'liveness' | 'engine';
  readonly text: string;
}

export const INVARIANTS: readonly InvariantInfo[] = [
  { id: 'O-I1', kind: 'safety', text: 'VMM generations never go down; a VMM state write lands only with a higher generation' },
  {
    id: 'O-I5',
    kind: 'safety',
    text: "a sled-agent says 'no such instance' for a VMM it had only once the database shows it terminal at a generation >= its last published one (unless a crash of that sled-agent lost it)",
  },
  {
    id: 'O-I6',
    kind: 'safety',
    text: "an instance whose user's last request was stop is never Failed, unless a crash of a sled-agent that hosted one of its VMMs explains it",
  },
  { id: 'O-L1', kind: 'liveness', text: 'after heal, no instance keeps a Destroyed or Failed VMM as its active one' },
  { id: 'O-L3', kind: 'liveness', text: "after heal, the user's requests finish and each instance settles where the user last asked (stop: NoVmm, start: Running)" },
  { id: 'PANIC', kind: 'engine', text: 'protocol code threw (a failed assertion or a bug), reported like a Crucible panic' },
  { id: 'DETERMINISM', kind: 'engine', text: 'protocol code used wall-clock time, ambient randomness or real timers during a run' },
  { id: 'BOUND-STEPS', kind: 'engine', text: 'the run hit its step bound: an event storm or a livelock' },
];
