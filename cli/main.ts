// stairwell's command line. Usage errors print one line and exit 2; a violation exits 1.

import { list } from './commands/list.ts';
import { merge } from './commands/merge.ts';
import { museum } from './commands/museum.ts';
import { replay } from './commands/replay.ts';
import { run } from './commands/run.ts';
import { shrink } from './commands/shrink.ts';
import { setWorkerModule, sweep } from './commands/sweep.ts';
import { isMainThread, workerData } from 'node:worker_threads';
import { serveSweepBatches } from './sweep-pool.ts';
import { bench } from './commands/bench.ts';
import { UsageError } from './usage-error.ts';

const HELP = `usage:
  stairwell list [--json]                                  scenarios, bugs, invariants, strategies
  stairwell run <scenario> --seed N [--bug ID]... [--strategy S] [--trace F.jsonl] [--tape F.json] [--json]
  stairwell sweep [<scenario>|all] --seeds A..B [--bug ID]... [--strategy S] [--json [F.json]] [--check-determinism] [--workers N] [--shard K/N] [--tapes DIR]
  stairwell merge <F.json>... [--json [F.json]]             join the --json results of a sweep's shards
  stairwell replay [<scenario>] <F.json> [--trace F.jsonl] [--json]
  stairwell shrink <F.json> | <scenario> --seed N [--bug ID]... [--strategy S] [--out F.json] [--seconds S] [--json]
  stairwell museum [--bug ID]... [--strategy S] [--seconds S] [--out DIR] [--json [F.json]]
  stairwell bench [--json [F.json]] [--only throughput,sweep,search,shrink] [--seeds N] [--rounds R]
                  [--sweep-seeds N] [--starts K] [--cap N] [--seconds S] [--bug ID]...
strategies: random (default), swarm, pct, coverage (a search: sweep and museum only)
exit status: 0 no violation, 1 a violation, 2 bad usage or input`;

const COMMANDS: Record<string, (argv: readonly string[]) => number | Promise<number>> = { list, run, sweep, merge, replay, shrink, museum, bench };

export function main(argv: readonly string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const handler = COMMANDS[command];
  const usageError = (error: unknown): number => {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`stairwell: ${error.message}\n`);
    return 2;
  };
  try {
    if (handler === undefined) throw new UsageError(`unknown command '${command}' (try 'stairwell help')`);
    const code = handler(rest);
    return typeof code === 'number' ? code : code.catch(usageError);
  } catch (error) {
    return usageError(error);
  }
}

// A reader that stops early (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

if (isMainThread) {
  setWorkerModule(new URL(import.meta.url));
  void Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
  });
} else if ((workerData as { stairwellSweepWorker?: boolean } | null)?.stairwellSweepWorker === true) {
  serveSweepBatches();
}
