// stairwell bench [--json [F.json]] [--only throughput,sweep,memory,search,shrink] [--seeds N] [--rounds R]
//                 [--sweep-seeds N] [--starts K] [--cap N] [--seconds S] [--bug ID]...
// In one run, on this machine:
// - throughput: events per second of each scenario with the oracle on and off, beside a bare
//   event loop doing the same queue work (medians of R alternating rounds; N seeds a round);
// - sweep: seeds per second with one worker thread and with one per core (N seeds of each
//   scenario a round);
// - memory: `sweep all --seeds 1..10000000000 --seconds S` in a process of its own, and the peak
//   resident memory it reports (S seconds, the --seconds below);
// - search: for each bug in the registry and each strategy, the median number of runs to find it
//   over K independent starts (at most --cap runs a start);
// - shrink: the shrinker against fast-check's shrinking of the same failing tape (S seconds each).

import { cpus, loadavg } from 'node:os';
import { searchPower, type BugPower } from '../../bench/search-power.ts';
import { shrinkComparisons, type ShrinkComparison } from '../../bench/shrink-compare.ts';
import { sweepMemory, type SweepMemory } from '../../bench/sweep-memory.ts';
import { sweepScaling, type SweepScaling } from '../../bench/sweep-scaling.ts';
import { throughput, type ThroughputRow } from '../../bench/throughput.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { STRATEGIES } from '../../sim/strategy.ts';
import { bugSwitches, nonNegativeInt, one, outputPaths, type Parsed } from '../args.ts';
import { checkOutputs } from '../outputs.ts';
import { packageRoot } from '../package-root.ts';
import { emitJson } from '../report.ts';
import { usage } from '../exit.ts';
import { workerModule } from './sweep.ts';

const SECTIONS = ['throughput', 'sweep', 'memory', 'search', 'shrink'] as const;

export async function bench(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) usage(`bench takes no arguments but its options, got ${p.positionals.join(' ')}`);
  const only = new Set((one(p, 'only') ?? SECTIONS.join(',')).split(','));
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) usage(`--only takes sections among ${SECTIONS.join(', ')}, not '${s}'`);
  const seeds = nonNegativeInt(one(p, 'seeds') ?? '500', '--seeds');
  const rounds = Math.max(1, nonNegativeInt(one(p, 'rounds') ?? '5', '--rounds'));
  const sweepSeeds = Math.max(1, nonNegativeInt(one(p, 'sweep-seeds') ?? '2000', '--sweep-seeds'));
  const starts = Math.max(1, nonNegativeInt(one(p, 'starts') ?? '7', '--starts'));
  const cap = Math.max(1, nonNegativeInt(one(p, 'cap') ?? '3000', '--cap'));
  const budgetMs = 1000 * nonNegativeInt(one(p, 'seconds') ?? '10', '--seconds');
  const bugs = new Set(bugSwitches(p.flags.get('bug') ?? []));
  const json = one(p, 'json');
  checkOutputs(outputPaths(p, [['json', 'file']]), []);
  const say = (line: string): void => {
    if (json !== '') process.stderr.write(`${line}\n`);
  };

  const report: BenchReport = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
    rounds,
    scenarios: only.has('throughput') ? throughput(SCENARIOS, seeds, rounds) : [],
    sweep: null,
    memory: null,
    search: [],
    shrink: [],
  };
  if (only.has('throughput')) for (const r of report.scenarios) say(throughputLine(r));
  if (only.has('sweep')) {
    const url = workerModule();
    if (url === null) say('sweep: worker threads need the bundled CLI (npx stairwell bench); skipped');
    else {
      report.sweep = await sweepScaling(url, sweepSeeds, Math.min(rounds, 3));
      const w = report.sweep;
      say(`sweep: ${w.seedsPerSecondOneWorker} seeds/s with 1 worker, ${w.seedsPerSecondAllCores} with ${w.cores}: x${w.ratio} (load average ${w.loadAverage})`);
    }
  }
  if (only.has('memory')) {
    report.memory = sweepMemory(packageRoot(), budgetMs / 1000);
    const m = report.memory;
    say(`memory: ${m.command}: ${m.seeds} seeds in ${m.elapsedSeconds}s, peak resident memory ${m.peakRssMb} MB (exit ${m.exitStatus}; target < 300 MB, < 15 s for a 5 s budget)`);
  }
  if (only.has('search')) {
    report.search = searchPower(starts, cap, bugs);
    for (const b of report.search) say(searchLine(b));
  }
  if (only.has('shrink')) {
    // fast-check is loaded only here: no other command needs it.
    report.shrink = shrinkComparisons(await import('fast-check'), budgetMs, bugs);
    for (const c of report.shrink) say(shrinkLine(c));
  }
  if (json !== undefined) emitJson(json, report, 'the bench results');
  return 0;
}

interface BenchReport {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly loadAverage: number;
  readonly rounds: number;
  readonly scenarios: readonly ThroughputRow[];
  sweep: SweepScaling | null;
  memory: SweepMemory | null;
  search: readonly BugPower[];
  shrink: readonly ShrinkComparison[];
}

function throughputLine(r: ThroughputRow): string {
  return (
    `${r.scenario}: ${r.eventsPerSecondOracleOn.toLocaleString('en')} events/s with the oracle, ${r.eventsPerSecondOracleOff.toLocaleString('en')} without` +
    ` (${r.oracleOnToOff} of it, target >= ${r.oracleTarget});` +
    ` bare loop ${r.eventsPerSecondBareLoop.toLocaleString('en')} events/s; ratio ${r.ratioToBareLoop} (target >= 0.25)` +
    (r.peer === null ? '' : `; ${r.peer.ratio} of ${r.peer.scenario}'s rate (target >= ${r.peer.target})`)
  );
}

function searchLine(b: BugPower): string {
  const medians = STRATEGIES.map((s) => `${s} ${b.strategies[s].median}`).join(', ');
  return `search ${b.id}: median runs to find: ${medians}; best other than random: ${b.best} (x${b.bestToRandom})`;
}

function shrinkLine(c: ShrinkComparison): string {
  const f = (x: ShrinkComparison['stairwell']): string => `${x.steps} steps, ${x.decisions} decisions, ${x.choices} choices, ${x.seconds}s${x.timedOut ? ' (out of time)' : ''}${x.sameInvariant ? '' : ' (LOST THE INVARIANT)'}`;
  return `shrink ${c.id} (seed ${c.seed}, ${c.from.steps} steps, ${c.from.choices} choices): stairwell ${f(c.stairwell)}; fast-check ${f(c.fastCheck)}`;
}
