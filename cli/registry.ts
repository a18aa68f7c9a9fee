// The registry a command works over: the built-in scenarios, or the scenarios of a file the
// command line names (`stairwell sweep ./lease/scenario.ts`, or a tape recorded from one). It is
// chosen, and the file loaded and checked, before the command line is parsed, so every name the
// line gives (a scenario, a --bug) is checked against it before any work starts.

import { readFileSync } from 'node:fs';
import type { Registry } from '../api/registry.ts';
import { loadScenarioFile, SCENARIO_FILE } from '../api/scenario-file.ts';
import { COMMAND_TABLE } from './command-table.ts';
import { packageRoot } from './package-root.ts';
import { BUILTIN } from '../scenarios/index.ts';

let active: Registry = BUILTIN;
let activeFile: string | null = null;

export function registry(): Registry {
  return active;
}

/** The scenario file the command line named (as given), else null: the built-in registry. */
export function scenarioFile(): string | null {
  return activeFile;
}

/** Pick the registry for `argv`: a positional naming a scenario file, or a tape that records one. */
export async function useRegistryFor(argv: readonly string[]): Promise<void> {
  await useScenarioFile(scenarioFileIn(argv));
}

/** The built-in registry (null), or a scenario file's: a sweep's worker thread loads the main thread's. */
export async function useScenarioFile(file: string | null): Promise<void> {
  active = file === null ? BUILTIN : await loadScenarioFile(file, packageRoot());
  activeFile = file;
}

function scenarioFileIn(argv: readonly string[]): string | null {
  const positionals = argv.slice(1).filter((a, i, all) => !a.startsWith('-') && !VALUE_FLAGS.has(all[i - 1] ?? ''));
  const named = positionals.find((a) => SCENARIO_FILE.test(a));
  if (named !== undefined) return named;
  for (const p of positionals.filter((a) => a.endsWith('.json'))) {
    const file = recordedFile(p);
    if (file !== null) return file;
  }
  return null;
}

/** Flags whose value is the next word, so it is not taken for a positional. */
const VALUE_FLAGS = new Set(COMMAND_TABLE.flatMap((c) => c.options.filter((o) => o.kind === 'value' || o.kind === 'list').map((o) => `--${o.name}`)));

/** The scenario file a tape was recorded from, if it is a readable tape of one. */
function recordedFile(path: string): string | null {
  try {
    const file = (JSON.parse(readFileSync(path, 'utf8')) as { file?: unknown }).file;
    return typeof file === 'string' ? file : null;
  } catch {
    return null; // not a tape: the command reports it in its own words
  }
}
