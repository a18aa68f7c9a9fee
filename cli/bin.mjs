#!/usr/bin/env node
// The `stairwell` executable. It runs the TypeScript sources bundled into one plain ES module by
// esbuild: a sweep runs the simulator's hot loop millions of times, and bundled code runs it
// about a third faster than the sources loaded one by one through tsx. The bundle is cached
// under node_modules/.cache/stairwell, keyed by the sources' paths, sizes and modification
// times, so an edit is picked up on the next command; source maps keep stack traces in .ts.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const SOURCE_DIRS = ['ports', 'sim', 'model', 'oracle', 'scenarios', 'cli', 'bench', 'viewer'];

function sourceKey() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) {
        const s = statSync(path);
        hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  hash.update(statSync(fileURLToPath(import.meta.url)).mtimeMs.toString());
  return hash.digest('hex').slice(0, 16);
}

async function bundle() {
  const cacheDir = join(root, 'node_modules', '.cache', 'stairwell');
  const out = join(cacheDir, `main-${sourceKey()}.mjs`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, 'cli', 'entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    sourcesContent: false,
    write: false,
    logLevel: 'error',
    absWorkingDir: root,
  });
  // Written under a temporary name and renamed, so processes building at once never read half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0].contents);
  renameSync(tmp, out);
  pruneOldBundles(cacheDir, out);
  return out;
}

/** Each edit of the sources makes a new bundle: keep the few newest, so the cache stays small. */
function pruneOldBundles(cacheDir, keep) {
  const KEEP = 8;
  const bundles = readdirSync(cacheDir)
    .filter((name) => /^main-[0-9a-f]{16}\.mjs$/.test(name))
    .map((name) => ({ path: join(cacheDir, name), mtimeMs: statSync(join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of bundles.slice(KEEP)) {
    // Another process may be running an old bundle (it is already loaded) or removing it too.
    if (old.path !== keep) rmSync(old.path, { force: true });
  }
}

process.setSourceMapsEnabled(true);
const entry = await bundle();
// Bare package imports in the bundle (seedrandom, ...) resolve from the project, not the cache.
process.env.STAIRWELL_ROOT = root;
await import(pathToFileURL(entry).href);
