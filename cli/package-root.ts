// Where the stairwell package lives, and its version. The CLI runs as an esbuild bundle cached
// under node_modules/.cache (cli/bin.mjs), whose own URL says nothing about the package, so
// bin.mjs passes the root in STAIRWELL_ROOT; from the sources (tests) it is two folders up.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  return process.env.STAIRWELL_ROOT ?? fileURLToPath(new URL('..', import.meta.url));
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
