// One run, start to verdict. Two phases (TigerBeetle's VOPR pattern):
// The run's configuration (sim/run-config.ts) bounds it: `workloadMs`, `livenessMs`, `maxSteps`.
// 1. workload: the scenario's nodes run with the nemesis injecting faults until `workloadMs`;
//    the oracle's safety checks run after every step;
// 2. liveness: every fault is healed (partitions repaired, link faults removed, held links
//    released, crashed nodes restarted), no new fault comes, and the run goes on until the
//    scenario's liveness goals all hold, nothing is left to run, or `livenessMs` more virtual
//    time has passed. Safety is still checked after every step.
// The run stops at the first violation. Bounds: `maxSteps` steps in all; hitting it is reported
// as the violation BOUND-STEPS with the run's seed or tape, never a hang.

import type { Strategy } from './strategy.ts';
import { guardViolation, withGuard } from './determinism-guard.ts';
import type { ChoiceRecorder } from './choice.ts';
import type { CoverageMap } from './coverage.ts';
import type { RunConfig } from './run-config.ts';
import { Simulator, type StepRecord } from './simulator.ts';
import type { TraceRecord } from './trace.ts';

/** What an invariant or goal says when it does not hold. */
export interface Finding {
  readonly invariant: string;
  readonly message: string;
}

export interface Violation extends Finding {
  readonly step: number;
  readonly timeMs: number;
  readonly phase: 'workload' | 'liveness';
}

export interface Oracle {
  /** Safety, after every step. */
  afterStep(step: StepRecord): Finding | null;
  /** Liveness: null once every goal holds, else the first goal that does not. */
  unmetGoal(): Finding | null;
}

export interface RunSpec {
  /** Bounds, network, nemesis: everything of the run that is not the world itself. */
  readonly config: RunConfig;
  /** Add the nodes, start the workload and the nemesis, and return the oracle. */
  setup(sim: Simulator): Oracle;
}

export interface RunOutcome {
  readonly ok: boolean;
  readonly violation: Violation | null;
  readonly steps: number;
  /** Events the run put on its queue: every step's, plus those that went stale unrun. */
  readonly queuePushes: number;
  readonly timeMs: number;
  readonly fingerprint: string;
  readonly choices: ChoiceRecorder;
  readonly records: readonly TraceRecord[] | null;
  /** The fingerprint after each step (index 0 is step 1), when asked (RunOptions.stepPrints). */
  readonly stepPrints: readonly number[] | null;
  readonly sim: Simulator;
}

export const PANIC = 'PANIC';
export const DETERMINISM = 'DETERMINISM';
export const BOUND_STEPS = 'BOUND-STEPS';

export interface RunOptions {
  readonly trace?: boolean;
  readonly strategy?: Strategy;
  /** Count the run's transitions here (the coverage strategy's search). */
  readonly coverage?: CoverageMap;
  /**
   * Keep the fingerprint after every step (with the choices drawn in it), so a determinism check
   * can name the first step where two runs differ: a number per step, cheap beside a trace.
   */
  readonly stepPrints?: boolean;
  /** Called after every step, before the oracle: a viewer takes the state each step left here. */
  readonly onStep?: (sim: Simulator, step: StepRecord) => void;
}

export function runSimulation(spec: RunSpec, choices: ChoiceRecorder, options: RunOptions = {}): RunOutcome {
  const sim = new Simulator({
    choices,
    trace: options.trace === true,
    strategy: options.strategy ?? 'random',
    config: spec.config,
    ...(options.coverage === undefined ? {} : { coverage: options.coverage }),
  });
  const prints: number[] | null = options.stepPrints === true ? [] : null;
  const violation = withGuard(() => drive(sim, spec, prints, options.onStep ?? null));
  return {
    ok: violation === null,
    violation,
    steps: sim.steps,
    queuePushes: sim.queuePushes,
    timeMs: sim.now,
    fingerprint: sim.fingerprint.hex(),
    choices,
    records: sim.records,
    stepPrints: prints,
    sim,
  };
}

function drive(sim: Simulator, spec: RunSpec, prints: number[] | null, onStep: RunOptions['onStep'] | null): Violation | null {
  const { workloadMs, livenessMs, maxSteps } = spec.config;
  let phase: Violation['phase'] = 'workload';
  const at = (f: Finding): Violation => ({ ...f, step: sim.steps, timeMs: sim.now, phase });
  const oracle = spec.setup(sim);
  const setupPanic = panicFinding(sim);
  if (setupPanic !== null) return at(setupPanic);

  const deadlineMs = workloadMs + livenessMs;
  for (;;) {
    if (phase === 'workload' && sim.nextTime() > workloadMs) {
      phase = 'liveness';
      sim.healAll();
      const panic = panicFinding(sim);
      if (panic !== null) return at(panic);
    }
    if (phase === 'liveness' && oracle.unmetGoal() === null) return null;
    if (sim.steps >= maxSteps) {
      return at({ invariant: BOUND_STEPS, message: `step bound ${maxSteps} reached at ${sim.now}ms (${phase}): an event storm or a livelock` });
    }
    if (phase === 'liveness' && sim.nextTime() > deadlineMs) break;
    const step = sim.step();
    if (step === null) {
      if (phase === 'workload') continue; // nothing left before the workload ends: heal now
      break;
    }
    sim.pct?.afterStep(sim.now, step.node);
    // The step's own choices count: the fingerprint folds them only at the next step.
    if (prints !== null) prints.push((Math.imul(sim.fingerprint.word() ^ sim.choices.values.length, 0x01000193) ^ sim.choices.lastValue) >>> 0);
    onStep?.(sim, step);
    const finding = panicFinding(sim) ?? oracle.afterStep(step);
    if (finding !== null) return at(finding);
  }
  const unmet = oracle.unmetGoal();
  if (unmet === null) return null;
  const why = sim.nextTime() === Infinity ? 'with nothing left to run' : `within ${livenessMs}ms of healing`;
  return at({ invariant: unmet.invariant, message: `${unmet.message} (not reached ${why})` });
}

function panicFinding(sim: Simulator): Finding | null {
  const swallowed = guardViolation();
  if (sim.panic === null && swallowed === null) return null;
  if (sim.panic === null || (swallowed !== null && !sim.panic.determinism)) {
    return { invariant: DETERMINISM, message: swallowed! };
  }
  const { node, determinism, message } = sim.panic;
  return determinism ? { invariant: DETERMINISM, message: `${node}: ${message}` } : { invariant: PANIC, message: `${node} panicked: ${message}` };
}
