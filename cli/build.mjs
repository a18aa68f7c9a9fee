#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` and an install by path build it): the library as
// plain JavaScript for `import 'stairwell'` from node without tsx. esbuild bundles the public
// entry points (api/index.ts, api/fast-check.ts) into dist/, sharing one chunk, with every
// package left external; tsc writes their type declarations under dist/types.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: { index: join(root, 'api', 'index.ts'), 'fast-check': join(root, 'api', 'fast-check.ts') },
  outdir: join(root, 'dist'),
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'error',
  absWorkingDir: root,
});
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
