// Throughput of the engine, measured in one process so the figures compare:
// - a scenario's events per second, the oracle on (every invariant after every step);
// - the same with the oracle's per-step checks off (liveness goals kept, so runs end alike);
// - a bare event loop doing the same queue work: the same binary heap, the same number of
//   events, each event scheduling one more at a small random delay, PENDING events in flight.
// Each figure is the median of `rounds` alternating measurements (machines here are shared).

import type { Scenario } from '../scenarios/scenario.ts';
import { seededChoices } from '../sim/choice.ts';
import { EventQueue } from '../sim/event-queue.ts';
import { runSimulation } from '../sim/runner.ts';

/** Events in flight in the bare loop: about what instance-lifecycle keeps queued. */
export const PENDING = 32;

export interface Rate {
  readonly events: number;
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
  const t0 = process.hrtime.bigint();
  for (let seed = 1; seed <= seeds; seed++) events += runSimulation(measured, seededChoices(String(seed))).steps;
  return rate(events, t0);
}

export function bareLoopRate(events: number): Rate {
  interface Ev {
    time: number;
    seq: number;
    node: number;
  }
  const queue = new EventQueue<Ev>(PENDING * 2);
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  for (let i = 0; i < PENDING; i++) queue.push({ time: Math.floor(next() * 10), seq: 0, node: i % 5 });
  const t0 = process.hrtime.bigint();
  let checksum = 0;
  for (let i = 0; i < events; i++) {
    const ev = queue.pop()!;
    checksum = (checksum + ev.node) | 0;
    queue.push({ time: ev.time + 1 + Math.floor(next() * 10), seq: 0, node: (ev.node + 1) % 5 });
  }
  if (checksum === -1) process.stdout.write(''); // keep the loop's work observable
  return rate(events, t0);
}

function rate(events: number, t0: bigint): Rate {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { events, seconds: Number(seconds.toFixed(4)), eventsPerSecond: Math.round(events / seconds) };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
