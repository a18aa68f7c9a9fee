// A module resolution hook (node:module register) for scenario files loaded by the command line:
// `import ... from 'stairwell'` in a user's scenario resolves to this very package's sources, so
// a scenario file runs against the stairwell that runs it, whether or not the file's folder has
// stairwell installed (examples/lease in a fresh clone has not).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The package's public entry points, by specifier. */
const ENTRIES = { stairwell: 'api/index.ts', 'stairwell/fast-check': 'api/fast-check.ts' };
let root = '';

export function initialize(data) {
  root = data.root;
}

export async function resolve(specifier, context, next) {
  const entry = ENTRIES[specifier];
  if (entry === undefined) return next(specifier, context);
  // Resolved by the hooks after this one (tsx's), which say how to load a .ts file.
  return next(pathToFileURL(join(root, entry)).href, context);
}
