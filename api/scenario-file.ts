// Scenarios from a file outside the package: `stairwell sweep ./lease/scenario.ts` (and run,
// shrink, replay, view). The file is TypeScript or JavaScript, loaded through tsx; its default
// export is a registry (`defineRegistry({ scenarios, invariants, bugs })`), or a single scenario
// that checks only the engine's own findings (PANIC, DETERMINISM, BOUND-STEPS: any other
// invariant needs a registry to describe it). The registry is checked as it loads, and
// `import 'stairwell'` in the file means this package (api/alias-hook.mjs).

import { existsSync, statSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';
import { InputError } from './input-error.ts';
import { defineRegistry, type Registry } from './registry.ts';
import { fromFile, type Scenario } from './scenario.ts';

/** What names a scenario file on a command line: a path ending in .ts, .mts, .js or .mjs (`file.ts#name` picks one of its scenarios). */
export const SCENARIO_FILE = /\.(?:ts|mts|js|mjs)(?:#[a-z0-9-]+)?$/;

export class ScenarioFileError extends InputError {
  override name = 'ScenarioFileError';
}

let hooked = false;

/** tsx for TypeScript, then the alias of 'stairwell' (hooks registered last resolve first). */
function hookOnce(packageRoot: string): void {
  if (hooked) return;
  registerTsx();
  registerHooks(pathToFileURL(join(packageRoot, 'api', 'alias-hook.mjs')).href, { data: { root: packageRoot } });
  hooked = true;
}

/** Load the scenarios a file defines, as a checked registry whose scenarios know their file. */
export async function loadScenarioFile(path: string, packageRoot: string): Promise<Registry> {
  const file = resolve(path.replace(/#[a-z0-9-]+$/, ''));
  if (!existsSync(file) || !statSync(file).isFile()) throw new ScenarioFileError(`no scenario file ${path}`);
  hookOnce(packageRoot);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // The file's errors come from its own copy of the library's classes: named, not matched by class.
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ScenarioFileError(`cannot load scenario file ${path}: ${why.split('\n')[0]}`);
  }
  const registry = registryOf(loaded.default, path);
  try {
    return defineRegistry({ scenarios: registry.scenarios.map((s) => fromFile(s, file)), invariants: registry.invariants, bugs: registry.bugs });
  } catch (error) {
    throw new ScenarioFileError(`scenario file ${path}: ${(error as Error).message}`);
  }
}

function registryOf(exported: unknown, path: string): Registry {
  if (isRegistry(exported)) return exported;
  if (isScenario(exported)) {
    try {
      return defineRegistry({ scenarios: [exported] });
    } catch (error) {
      throw new ScenarioFileError(`scenario file ${path}: ${(error as Error).message} (export default defineRegistry({ scenarios, invariants, bugs }) to describe them)`);
    }
  }
  throw new ScenarioFileError(`scenario file ${path} must export default defineRegistry({ scenarios, invariants, bugs }) or defineScenario({...})`);
}

function isRegistry(value: unknown): value is Registry {
  return typeof value === 'object' && value !== null && Array.isArray((value as Registry).scenarios) && typeof (value as Registry).bug === 'function';
}

function isScenario(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && typeof (value as Scenario).name === 'string' && typeof (value as Scenario).spec === 'function';
}

/** How a command line names a file's scenario: its path from here (`./lease/scenario.ts`), `#name` when the file has several. */
export function scenarioArgument(scenario: Scenario, siblings = 1): string {
  if (scenario.file === null) return scenario.name;
  const rel = relative(process.cwd(), scenario.file);
  const path = rel.startsWith('..') ? rel : `./${rel}`;
  return siblings > 1 ? `${path}#${scenario.name}` : path;
}
