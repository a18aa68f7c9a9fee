// stairwell's command line: parse, run the command, and end with the exit status of the contract
// (cli/exit.ts). This is the one place that turns an error into an exit status: bad usage is one
// line and 2; an output that could not be written is one line naming where it was kept, and 4;
// anything else is a bug in stairwell, one line and 3, with the stack only under --debug or
// STAIRWELL_DEBUG=1. No command prints a stack trace otherwise. cli/entry.ts runs it.

import { parseCommandLine, type Parsed } from './args.ts';
import { bench } from './commands/bench.ts';
import { diff } from './commands/diff.ts';
import { list } from './commands/list.ts';
import { merge } from './commands/merge.ts';
import { museum } from './commands/museum.ts';
import { replay } from './commands/replay.ts';
import { run } from './commands/run.ts';
import { shrink } from './commands/shrink.ts';
import { sweep } from './commands/sweep.ts';
import { view } from './commands/view.ts';
import { InputError } from '../api/input-error.ts';
import { EXIT, stackOf } from './exit.ts';
import { scenarioFile, useRegistryFor } from './registry.ts';
import { outputs } from './outputs.ts';
import { packageVersion } from './package-root.ts';

export type Handler = (p: Parsed) => number | Promise<number>;

const COMMANDS: Record<string, Handler> = { list, run, sweep, merge, replay, shrink, view, diff, museum, bench };

/** Run one command line; `commands` are the handlers by name (tests give their own). */
export async function main(argv: readonly string[], commands: Readonly<Record<string, Handler>> = COMMANDS): Promise<number> {
  const debug = argv.includes('--debug') || process.env.STAIRWELL_DEBUG === '1';
  try {
    if (argv.length === 0) {
      parseCommandLine(['--help'], packageVersion(), process.stderr);
      return EXIT.usage;
    }
    if (!argv.includes('--help') && !argv.includes('-h')) await useRegistryFor(argv);
    const line = parseCommandLine(argv, packageVersion());
    if (line.kind === 'printed') return EXIT.ok;
    const handler = commands[line.name];
    if (handler === undefined) throw new Error(`no handler for the command ${line.name}`);
    const code = await handler(line.parsed);
    return endWith(code);
  } catch (error) {
    return endWith(failed(error, debug));
  }
}

/** Lost writes outrank the verdict: a CI job must not read a result file that is not there. */
function endWith(code: number): number {
  const lost = outputs.lostLines();
  for (const line of lost) process.stderr.write(`stairwell: ${line}\n`);
  return lost.length > 0 ? EXIT.output : code;
}

function failed(error: unknown, debug: boolean): number {
  if (error instanceof InputError) {
    process.stderr.write(`stairwell: ${error.message}\n`);
    return EXIT.usage;
  }
  return internalError(error, debug);
}

/**
 * An error no command expected. With a scenario file loaded it may be the file's own world code
 * (its setup or oracle: protocol code's errors are findings), so the line says both; exit 3.
 */
export function internalError(error: unknown, debug: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  const file = scenarioFile();
  const whose = file === null ? 'a bug in stairwell, not a finding' : `in the setup or oracle of ${file}, or a bug in stairwell; not a finding`;
  process.stderr.write(
    debug
      ? `stairwell: internal error: ${stackOf(error)}\n`
      : `stairwell: internal error: ${message.split('\n')[0]} (${whose}; --debug or STAIRWELL_DEBUG=1 prints the stack)\n`,
  );
  return EXIT.internal;
}
