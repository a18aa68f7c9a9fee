// A scenario: a named world (its nodes, workload and oracle), the faults that may hit it, the
// invariants it checks, the probes a sweep of it must reach, and the run configuration it runs
// under by default. `defineScenario` checks the definition when it loads; `spec(bugs, config)`
// is what the runner runs, with the given bug switches on. The built-in scenarios are defined
// this way too (scenarios/).

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bugs } from '../ports/index.ts';
import type { FaultOption } from '../sim/nemesis.ts';
import { runConfig, type RunConfig, type RunConfigInput } from '../sim/run-config.ts';
import type { Oracle, RunSpec } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';

/** What a scenario's `setup` is given besides the simulator. */
export interface WorldContext {
  /** The bug switches on for this run. */
  readonly bugs: Bugs;
  /** The run's configuration (the scenario's defaults, or a tape's). `startNemesis(sim, menu)` reads it from `sim.config`. */
  readonly config: RunConfig;
  readonly faultMenu: readonly FaultOption[];
}

export interface ScenarioDef {
  /** Lower case, digits and dashes: `lease`, `crucible-takeover`. */
  readonly name: string;
  readonly summary: string;
  /** The invariants and liveness goals its oracle checks (ids its registry describes). */
  readonly invariants: readonly string[];
  /** The faults the nemesis may inject (none: a run without faults). */
  readonly faultMenu?: readonly FaultOption[];
  /** Probes a sweep of seeds 1..2000 must reach: the paths its invariants guard (`sweep --probes`). */
  readonly requiredProbes?: readonly string[];
  /** The fields of the run configuration it changes (sim/run-config.ts has every field and its default). */
  readonly config?: RunConfigInput;
  /**
   * The file that defines it (`import.meta.url`), so the replay commands of a run made from a
   * test name it (`npx stairwell run ./scenario.ts --seed 7`); loading the file sets it anyway.
   */
  readonly file?: string | URL;
  /** Add the nodes, start the workload and the nemesis, and return the oracle. */
  setup(sim: Simulator, world: WorldContext): Oracle;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly invariants: readonly string[];
  readonly faultMenu: readonly FaultOption[];
  readonly requiredProbes: readonly string[];
  /** The run configuration it runs under unless a tape says otherwise. */
  readonly config: RunConfig;
  /** The file it was loaded from (`stairwell sweep ./scenario.ts`), else null: replay commands name it. */
  readonly file: string | null;
  spec(bugs: Bugs, config?: RunConfig): RunSpec;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** A scenario from its definition; a bad definition is a `RangeError` naming what is wrong. */
export function defineScenario(def: ScenarioDef): Scenario {
  if (!NAME.test(def.name)) throw new RangeError(`scenario name '${def.name}' must be lower case letters, digits and dashes`);
  if (def.invariants.length === 0) throw new RangeError(`scenario ${def.name} checks no invariant`);
  if (new Set(def.invariants).size !== def.invariants.length) throw new RangeError(`scenario ${def.name} names an invariant twice`);
  const faultMenu = def.faultMenu ?? [];
  const defaults = runConfig(def.config ?? {});
  const setup = def.setup;
  return {
    name: def.name,
    summary: def.summary,
    invariants: def.invariants,
    faultMenu,
    requiredProbes: def.requiredProbes ?? [],
    config: defaults,
    file: def.file === undefined ? null : pathOf(def.file),
    spec: (bugs, config = defaults) => ({ config, setup: (sim) => setup(sim, { bugs, config, faultMenu }) }),
  };
}

function pathOf(file: string | URL): string {
  return typeof file === 'string' && !file.startsWith('file:') ? resolve(file) : fileURLToPath(file);
}

/** The same scenario, known by the file it was loaded from. */
export function fromFile(scenario: Scenario, file: string): Scenario {
  return { ...scenario, file };
}
