// Throughput of the engine, measured in one process so the figures compare:
// - a scenario's events per second, the oracle on (every invariant after every step);
// - the same with the oracle's per-step checks off (liveness goals kept, so runs end alike);
// - a bare event loop doing the same queue work: the same binary heap and event objects, as many
//   pushes and pops
//   as the scenario's runs made (a run also pushes events that go stale unrun, such as the
//   timeouts of calls that were answered), PENDING events in flight, no handlers. Its rate is
//   counted in the scenario's events, so the two rates compare the same work.
// Each figure is the median of `rounds` alternating measurements (machines here are shared).

import type { Scenario } from '../api/scenario.ts';
import { seededChoices } from '../sim/choice.ts';
import seedrandom from 'seedrandom';
import { EventQueue } from '../sim/event-queue.ts';
import { SimEvent } from '../sim/sim-event.ts';
import { runSimulation } from '../sim/runner.ts';

/** Events in flight in the bare loop: instance-lifecycle keeps 15 queued on average. */
export const PENDING = 16;

export interface Rate {
  readonly events: number;
  readonly queuePushes: number;
  readonly choices: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

export function scenarioRate(scenario: Scenario, seeds: number, oracle: boolean): Rate {
  const spec = scenario.spec(new Set());
  const measured = oracle
    ? spec
    : {
        ...spec,
        setup: (sim: Parameters<typeof spec.setup>[0]) => {
          const real = spec.setup(sim);
          return { afterStep: () => null, unmetGoal: () => real.unmetGoal() };
        },
      };
  let events = 0;
  let queuePushes = 0;
  let choices = 0;
  const t0 = process.hrtime.bigint();
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runSimulation(measured, seededChoices(String(seed)));
    events += r.steps;
    queuePushes += r.queuePushes;
    choices += r.choices.values.length;
  }
  return rate(events, queuePushes, choices, t0);
}

/** `queuePushes` pops and pushes on a heap of PENDING events and `choices` draws, per `events`. */
export function bareLoopRate(events: number, queuePushes: number, choices: number): Rate {
  // The engine's own event objects on the engine's own heap, recycled as the engine recycles
  // them: the same comparisons per push and pop, and nothing else.
  const queue = new EventQueue<SimEvent>(PENDING * 2);
  const prng = seedrandom.alea('bare');
  const drawsPerPush = choices / Math.max(1, queuePushes);
  let owed = 0;
  const delay = (): number => {
    let d = 1;
    for (owed += drawsPerPush; owed >= 1; owed--) d += Math.floor(prng() * 10);
    return d;
  };
  const event = (time: number, inc: number): SimEvent => new SimEvent('timer', time, null, null, inc, 0, null, null, 0, '');
  for (let i = 0; i < PENDING; i++) queue.push(event(delay(), i));
  const t0 = process.hrtime.bigint();
  let checksum = 0;
  for (let i = 0; i < queuePushes; i++) {
    const ev = queue.pop()!;
    checksum = (checksum + ev.inc) | 0;
    ev.time += delay();
    queue.push(ev);
  }
  if (checksum === -1) process.stdout.write(''); // keep the loop's work observable
  return rate(events, queuePushes, choices, t0);
}

function rate(events: number, queuePushes: number, choices: number, t0: bigint): Rate {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { events, queuePushes, choices, seconds: Number(seconds.toFixed(4)), eventsPerSecond: Math.round(events / seconds) };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface ThroughputRow {
  readonly scenario: string;
  readonly seeds: number;
  readonly eventsPerRound: number;
  readonly queuePushesPerRound: number;
  readonly choicesPerRound: number;
  readonly eventsPerSecondOracleOn: number;
  readonly eventsPerSecondOracleOff: number;
  readonly eventsPerSecondBareLoop: number;
  readonly ratioToBareLoop: number;
  /** The oracle's cost: the rate with it over the rate without, and its target (the same for every scenario). */
  readonly oracleOnToOff: number;
  readonly oracleTarget: number;
  /** Where a scenario has a throughput target against another's: its rate over theirs, oracle on, same run. */
  readonly peer: { readonly scenario: string; readonly ratio: number; readonly target: number } | null;
}

/** The oracle's cost stays under 30% in every scenario: its rate with the oracle, over its rate without. */
const ORACLE_TARGET = 0.7;

/** Throughput targets against a peer scenario: propolis-start runs Crucible inside Propolis inside a sled. */
const PEER_TARGETS: Readonly<Record<string, { readonly scenario: string; readonly target: number }>> = {
  'propolis-start': { scenario: 'crucible-activation', target: 0.7 },
};

/** Every scenario's throughput row, with its peer ratio where it has a target against another. */
export function throughput(scenarios: readonly Scenario[], seeds: number, rounds: number): ThroughputRow[] {
  const rows = scenarios.map((scenario) => scenarioThroughput(scenario, seeds, rounds));
  return rows.map((r) => {
    const want = PEER_TARGETS[r.scenario];
    const peer = want === undefined ? undefined : rows.find((q) => q.scenario === want.scenario);
    if (want === undefined || peer === undefined) return r;
    return { ...r, peer: { scenario: want.scenario, ratio: Number((r.eventsPerSecondOracleOn / peer.eventsPerSecondOracleOn).toFixed(3)), target: want.target } };
  });
}

/** One scenario: medians of `rounds` alternating measurements, JIT warmed first. */
function scenarioThroughput(scenario: Scenario, seeds: number, rounds: number): ThroughputRow {
  const on: number[] = [];
  const off: number[] = [];
  const bare: number[] = [];
  let events = 0;
  let queuePushes = 0;
  let choices = 0;
  scenarioRate(scenario, seeds, true); // warm up the JIT: the figures are for a sweep's steady state
  scenarioRate(scenario, seeds, false);
  bareLoopRate(200_000, 200_000, 200_000);
  for (let r = 0; r < rounds; r++) {
    const withOracle = scenarioRate(scenario, seeds, true);
    events = withOracle.events;
    queuePushes = withOracle.queuePushes;
    choices = withOracle.choices;
    on.push(withOracle.eventsPerSecond);
    off.push(scenarioRate(scenario, seeds, false).eventsPerSecond);
    bare.push(bareLoopRate(events, queuePushes, choices).eventsPerSecond);
  }
  const oracleOn = median(on);
  const bareLoop = median(bare);
  return {
    scenario: scenario.name,
    seeds,
    eventsPerRound: events,
    queuePushesPerRound: queuePushes,
    choicesPerRound: choices,
    eventsPerSecondOracleOn: oracleOn,
    eventsPerSecondOracleOff: median(off),
    eventsPerSecondBareLoop: bareLoop,
    ratioToBareLoop: Number((oracleOn / bareLoop).toFixed(3)),
    oracleOnToOff: Number((oracleOn / median(off)).toFixed(3)),
    oracleTarget: ORACLE_TARGET,
    peer: null,
  };
}
