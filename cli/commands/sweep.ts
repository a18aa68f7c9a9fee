// stairwell sweep [<scenario>|all] --seeds A..B|random:N[@S] [--bug ID]... [--strategy S]
//                 [--workers N] [--shard K/N] [--seconds S] [--max-failures N] [--tapes DIR]
//                 [--check-determinism] [--probes] [--json [F.json]] [--junit F.xml] [--quiet]
// Runs every seed of the sequence (lazily: any size starts at once), on worker threads or in
// this thread, and ends with a summary naming the first failing seed, its invariant and a
// replay command; exit 1 if any seed failed. Everything the command line names is checked
// before the first seed runs. The run itself is cli/sweep-session.ts.

import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { registry } from '../registry.ts';
import type { Scenario } from '../../api/scenario.ts';
import { sharded, WHOLE } from '../../sim/seed-sequence.ts';
import { bugSwitches, bugsFor, nonNegativeInt, one, outputPaths, scenariosForBugs, scenariosNamed, seedSequence, shardOf, strategyNamed, type Parsed } from '../args.ts';
import { usage } from '../exit.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { SweepSession, type SweepConfig } from '../sweep-session.ts';

const DEFAULT_TAPES = 'stairwell-failures';

/** The bundled CLI module, which a worker loads again; null when running from the .ts sources. */
let bundledModule: URL | null = null;
export function setWorkerModule(url: URL): void {
  bundledModule = url.pathname.endsWith('.ts') ? null : url;
}
export function workerModule(): URL | null {
  return bundledModule;
}

export function sweep(p: Parsed): Promise<number> {
  const config = sweepConfig(p);
  if (config.wholeSeeds.text.startsWith('random:') && !one(p, 'seeds')!.includes('@')) {
    // The first line says how to draw the same seeds again (stderr when stdout is the JSON).
    const line = `seeds: ${config.wholeSeeds.text} (${config.wholeSeeds.length} seeds drawn from start ${config.wholeSeeds.text.split('@')[1]}; --seeds ${config.wholeSeeds.text} draws the same again)\n`;
    (config.json === '' ? process.stderr : process.stdout).write(line);
  }
  if (config.strategy === 'coverage' && one(p, 'workers') !== undefined && config.workers > 1 && !config.quiet && config.json !== '') {
    process.stderr.write('note: a coverage sweep is one search whose runs build on each other, so it runs in this thread; --workers does not apply\n');
  }
  if (config.tapes !== undefined) outputs.makeDir(config.tapes);
  return new SweepSession(config).run();
}

function sweepConfig(p: Parsed): SweepConfig {
  if (p.positionals.length > 1) usage(`sweep takes one scenario or 'all', got ${p.positionals.join(' ')}`);
  const target = p.positionals[0] ?? 'all';
  const named = p.flags.get('bug') ?? [];
  const scenarios: readonly Scenario[] = target === 'all' ? scenariosForBugs(registry().scenarios, named) : scenariosNamed(target);
  const bugs = bugSwitches(named);
  for (const s of scenarios) bugsFor(s, bugs);
  const seedsText = one(p, 'seeds');
  if (seedsText === undefined) usage('sweep needs --seeds A..B or --seeds random:N');
  const wholeSeeds = seedSequence(seedsText, () => randomInt(2 ** 32));
  const shardText = one(p, 'shard');
  const shard = shardText === undefined ? WHOLE : shardOf(shardText);
  const seeds = sharded(wholeSeeds, shard);
  if (seeds.length === 0) usage(`--shard ${shardText} of --seeds ${seedsText} has no seeds (${wholeSeeds.length} seeds in ${shard.count} shards)`);
  const strategy = strategyNamed(one(p, 'strategy'));
  const workersText = one(p, 'workers');
  const workers = workersText === undefined ? availableParallelism() : nonNegativeInt(workersText, '--workers');
  if (workers < 1) usage('--workers takes a number of threads, 1 or more');
  const secondsText = one(p, 'seconds');
  const maxFailuresText = one(p, 'max-failures');
  const maxFailures = maxFailuresText === undefined ? null : nonNegativeInt(maxFailuresText, '--max-failures');
  if (maxFailures === 0) usage('--max-failures takes 1 or more (omit it to run every seed)');
  const tapes = one(p, 'tapes') ?? (strategy === 'coverage' ? DEFAULT_TAPES : undefined);
  const json = one(p, 'json');
  const junit = one(p, 'junit');
  checkOutputs([...outputPaths(p, [['json', 'file'], ['junit', 'file']]), ...(tapes === undefined ? [] : [{ flag: '--tapes', path: tapes, kind: 'dir' as const }])], []);
  return {
    target,
    scenarios,
    wholeSeeds,
    seeds,
    shard,
    bugs,
    strategy,
    checkDeterminism: p.flags.has('check-determinism'),
    workers,
    workerModule: bundledModule,
    json,
    junit,
    tapes,
    secondsMax: secondsText === undefined ? null : positiveSeconds(secondsText),
    maxFailures,
    quiet: p.flags.has('quiet'),
    probes: p.flags.has('probes'),
  };
}

function positiveSeconds(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) usage(`--seconds takes a positive number of seconds, not '${text}'`);
  return Number(text);
}
