// A registry: the scenarios a suite runs, the invariants they check (each described: a failure
// names one and says what a user would lose), and the bug switches (each restores a historical
// or planted behaviour, names the scenario that exposes it and the invariant that catches it).
// `defineRegistry` checks it when it loads: every invariant a scenario names is described, every
// switch names an existing scenario and an invariant that scenario checks, no id twice. The
// built-in registry (scenarios/index.ts) and a scenario file's are made the same way.

import { InputError } from './input-error.ts';
import type { Scenario } from './scenario.ts';

export interface InvariantInfo {
  readonly id: string;
  /** safety: checked after every step; liveness: once faults heal; engine: the harness' own. */
  readonly kind: 'safety' | 'liveness' | 'engine';
  readonly text: string;
}

export interface BugEntry {
  /** `area/what-it-does`: `lease/renew-after-expiry`. */
  readonly id: string;
  readonly title: string;
  /** Where it came from: an upstream issue, a PR, "planted". */
  readonly source: string;
  /** The scenario that exposes it (the museum and the tests sweep this one). */
  readonly scenario: string;
  /** Every scenario whose code reads the switch (default: `scenario` alone); naming it for another is refused. */
  readonly appliesTo: readonly string[];
  readonly invariant: string;
  /** Seeds (1..N) a sweep needs to find it, when more than the usual 2000: a rare race. */
  readonly sweepSeeds?: number;
}

export type BugDef = Omit<BugEntry, 'appliesTo'> & { readonly appliesTo?: readonly string[] };

/** The harness' own findings, described in every registry. */
export const ENGINE_INVARIANTS: readonly InvariantInfo[] = [
  { id: 'PANIC', kind: 'engine', text: 'protocol code threw (a failed assertion or a bug), reported like a Crucible panic' },
  { id: 'DETERMINISM', kind: 'engine', text: 'protocol code used wall-clock time, ambient randomness or real timers during a run' },
  { id: 'BOUND-STEPS', kind: 'engine', text: 'the run hit its step bound: an event storm or a livelock' },
];

export interface RegistryDef {
  readonly scenarios: readonly Scenario[];
  readonly invariants?: readonly InvariantInfo[];
  readonly bugs?: readonly BugDef[];
}

export interface Registry {
  readonly scenarios: readonly Scenario[];
  /** Every invariant described, the engine's included. */
  readonly invariants: readonly InvariantInfo[];
  readonly bugs: readonly BugEntry[];
  scenario(name: string): Scenario | undefined;
  bug(id: string): BugEntry | undefined;
  invariant(id: string): InvariantInfo | undefined;
}

export class RegistryError extends InputError {
  override name = 'RegistryError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`the registry is inconsistent: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A registry from its parts, checked; a `RegistryError` lists every problem found. */
export function defineRegistry(def: RegistryDef): Registry {
  const ownInvariants = def.invariants ?? [];
  const invariants = [...ownInvariants, ...ENGINE_INVARIANTS.filter((e) => !ownInvariants.some((i) => i.id === e.id))];
  const bugs = (def.bugs ?? []).map((b): BugEntry => ({ ...b, appliesTo: b.appliesTo ?? [b.scenario] }));
  const problems = registryProblems(def.scenarios, invariants, bugs);
  if (problems.length > 0) throw new RegistryError(problems);
  const scenarios = new Map(def.scenarios.map((s) => [s.name, s]));
  const byBug = new Map(bugs.map((b) => [b.id, b]));
  const byInvariant = new Map(invariants.map((i) => [i.id, i]));
  return {
    scenarios: def.scenarios,
    invariants,
    bugs,
    scenario: (name) => scenarios.get(name),
    bug: (id) => byBug.get(id),
    invariant: (id) => byInvariant.get(id),
  };
}

/** Everything inconsistent between the parts of a registry; empty when nothing is. */
export function registryProblems(scenarios: readonly Scenario[], invariants: readonly InvariantInfo[], bugs: readonly BugEntry[]): string[] {
  const problems = [...twice('scenario', scenarios.map((s) => s.name)), ...twice('invariant', invariants.map((i) => i.id)), ...twice('bug', bugs.map((b) => b.id))];
  const described = new Set(invariants.map((i) => i.id));
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  for (const s of scenarios) {
    for (const id of s.invariants) if (!described.has(id)) problems.push(`scenario ${s.name} checks ${id}, which no invariant describes`);
  }
  for (const b of bugs) {
    const home = byName.get(b.scenario);
    if (home === undefined) problems.push(`bug ${b.id} names scenario ${b.scenario}, which does not exist`);
    else if (!home.invariants.includes(b.invariant) && !ENGINE_INVARIANTS.some((e) => e.id === b.invariant)) problems.push(`bug ${b.id} is caught by ${b.invariant}, which its scenario ${b.scenario} does not check`);
    if (!described.has(b.invariant)) problems.push(`bug ${b.id} is caught by ${b.invariant}, which no invariant describes`);
    if (!b.appliesTo.includes(b.scenario)) problems.push(`bug ${b.id} does not apply to its own scenario ${b.scenario}`);
    for (const name of b.appliesTo) if (name !== b.scenario && !byName.has(name)) problems.push(`bug ${b.id} applies to scenario ${name}, which does not exist`);
  }
  return problems;
}

function twice(what: string, ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set(ids.filter((id) => seen.size === seen.add(id).size));
  return [...repeated].map((id) => `${what} ${id} is defined twice`);
}
