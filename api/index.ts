// stairwell's public API: everything a user needs to test a protocol of their own.
// - Protocol code: the ports it runs against (Env, Process, NodeDef, flows, call/sleep, choices,
//   probes) and always-on assertions (panic, panicUnless).
// - A world: defineScenario (nodes, workload, oracle, fault menu, run configuration) and
//   defineRegistry (its invariants described, its bug switches); the Simulator a setup is given,
//   startNemesis and the fault menu's options; the run configuration's fields and defaults.
// - Running: runScenario, sweepScenario, shrinkFailure, replayTape; tapes (readTape, parseTape,
//   writeTape, tapeText). The fast-check bridge is `stairwell/fast-check`.
// docs/writing-a-scenario.md walks through a complete example (examples/lease).

export type { CallEffect, CallResult, Effect, Env, Flow, NodeDef, NodeId, Process, SleepEffect, Bugs } from '../ports/index.ts';
export { between, call, flip, probe, sleep } from '../ports/index.ts';
export { panic, panicUnless, ProtocolPanic, unreachable } from '../model/assert.ts';

export { defineScenario, type Scenario, type ScenarioDef, type WorldContext } from './scenario.ts';
export { defineRegistry, ENGINE_INVARIANTS, RegistryError, type BugDef, type BugEntry, type InvariantInfo, type Registry, type RegistryDef } from './registry.ts';
export { loadScenarioFile, ScenarioFileError } from './scenario-file.ts';
export { InputError } from './input-error.ts';

export { Simulator, type FaultRecord, type StepRecord } from '../sim/simulator.ts';
export { startNemesis, describeFault, type FaultOption } from '../sim/nemesis.ts';
export type { LinkFault } from '../sim/network.ts';
export type { Finding, Oracle, RunSpec, Violation } from '../sim/runner.ts';
export { BOUND_STEPS, DETERMINISM, PANIC } from '../sim/runner.ts';
export { DEFAULT_RUN_CONFIG, RUN_CONFIG_FIELDS, runConfig, describeRunConfig, type ConfigField, type LinkParams, type NemesisParams, type RunConfig, type RunConfigInput, type SwarmBounds } from '../sim/run-config.ts';
export { STRATEGIES, type Strategy } from '../sim/strategy.ts';

export { runScenario, sweepScenario, shrinkFailure, replayTape, writeTape, type RunOptions, type RunResult, type ShrinkOptions, type SweepOptions, type SweepReport } from './run.ts';
export type { SweepFailure } from './sweep-seed.ts';
export { parseTape, readTape, tapeText, type TapeFile } from './tape.ts';
