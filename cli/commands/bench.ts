// stairwell bench [--json [F.json]] [--seeds N] [--rounds R]
// Events per second of each scenario with the oracle on and off, beside a bare event loop doing
// the same queue work, all in this one process; medians of R alternating rounds.

import { cpus } from 'node:os';
import { bareLoopRate, median, scenarioRate } from '../../bench/throughput.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { nonNegativeInt, one, parseArgs } from '../args.ts';
import { emitJson } from '../report.ts';

export function bench(argv: readonly string[]): number {
  const p = parseArgs(argv, { json: 'json', seeds: 'value', rounds: 'value' });
  const seeds = nonNegativeInt(one(p, 'seeds') ?? '500', '--seeds');
  const rounds = Math.max(1, nonNegativeInt(one(p, 'rounds') ?? '5', '--rounds'));
  const json = one(p, 'json');
  const results = SCENARIOS.map((scenario) => {
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
    };
  });
  const report = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, rounds, scenarios: results };
  if (json !== undefined) emitJson(json, report);
  else {
    const lines = [`node ${report.node}, ${report.cores} x ${report.cpu}, medians of ${rounds} rounds`];
    for (const r of results) {
      lines.push(
        `${r.scenario}: ${r.eventsPerSecondOracleOn.toLocaleString('en')} events/s with the oracle, ${r.eventsPerSecondOracleOff.toLocaleString('en')} without;` +
          ` bare loop ${r.eventsPerSecondBareLoop.toLocaleString('en')} events/s; ratio ${r.ratioToBareLoop} (target >= 0.25)`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}
