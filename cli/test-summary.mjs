// `npm test`: runs ava with TAP output, shows it, and ends with the plain line CI reads:
// "N passed, N failed". Exit status is ava's.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let passed = 0;
let failed = 0;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line)) failed++;
  }
});
child.on('close', (code) => {
  if (/^ok \d+/.test(buffer)) passed++;
  else if (/^not ok \d+/.test(buffer)) failed++;
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exitCode = code ?? 1;
});
