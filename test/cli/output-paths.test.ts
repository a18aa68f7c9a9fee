import test from 'ava';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { outputs } from '../../cli/outputs.ts';
import { captured } from '../helpers/capture.ts';

// Every output path of every command is checked before any work starts: a missing or unwritable
// folder, a folder where a file goes (or a file where a folder goes), a path that is one of the
// command's own inputs, two outputs on one path. Each is one line on stderr, exit 2, and nothing
// run (nothing on stdout). Run in this process (main() with stdout and stderr captured), so the
// whole table takes a second rather than a spawn per case.

const dir = mkdtempSync(join(tmpdir(), 'stairwell-outputs-'));
const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, 'not a folder\n');
const tape = join(dir, 'takeover.json');
const shard = join(dir, 'shard-1.json');

/** A folder no one may write to: a read-only one of our own, or (as root, whom modes do not stop) /proc/sys. */
function unwritableFolder(): string {
  if (process.getuid?.() !== 0) {
    const ro = join(dir, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    return ro;
  }
  return '/proc/sys';
}
const readOnly = unwritableFolder();

async function stairwell(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await captured(() => main(argv));
    return { code: r.value, stdout: r.stdout, stderr: r.stderr };
  } finally {
    outputs.lost.length = 0;
  }
}

test.before(async () => {
  await stairwell('run', 'crucible-takeover', '--seed', '1', '--tape', tape);
  await stairwell('sweep', 'crucible-activation', '--seeds', '1..4', '--shard', '1/2', '--workers', '1', '--quiet', `--json=${shard}`);
});

/** [command, flag, kind, the command line with `out` as that flag's path, the command's inputs]. */
type Case = readonly [string, string, 'file' | 'dir', (out: string) => string[], readonly string[]];

const CASES: readonly Case[] = [
  ['list', '--json', 'file', (o) => ['list', `--json=${o}`], []],
  ['run', '--trace', 'file', (o) => ['run', 'crucible-takeover', '--seed', '1', '--trace', o], []],
  ['run', '--tape', 'file', (o) => ['run', 'crucible-takeover', '--seed', '1', '--tape', o], []],
  ['run', '--json', 'file', (o) => ['run', 'crucible-takeover', '--seed', '1', `--json=${o}`], []],
  ['sweep', '--json', 'file', (o) => ['sweep', 'crucible-takeover', '--seeds', '1..5', `--json=${o}`], []],
  ['sweep', '--junit', 'file', (o) => ['sweep', 'crucible-takeover', '--seeds', '1..5', '--junit', o], []],
  ['sweep', '--tapes', 'dir', (o) => ['sweep', 'crucible-takeover', '--seeds', '1..5', '--tapes', o], []],
  ['merge', '--json', 'file', (o) => ['merge', shard, `--json=${o}`], [shard]],
  ['merge', '--junit', 'file', (o) => ['merge', shard, '--junit', o], [shard]],
  ['replay', '--trace', 'file', (o) => ['replay', tape, '--trace', o], [tape]],
  ['replay', '--json', 'file', (o) => ['replay', tape, `--json=${o}`], [tape]],
  ['shrink', '--out', 'file', (o) => ['shrink', tape, '--out', o], [tape]],
  ['shrink', '--json', 'file', (o) => ['shrink', tape, `--json=${o}`], [tape]],
  ['museum', '--out', 'dir', (o) => ['museum', '--bug', 'crucible/replace-while-initializing', '--out', o], []],
  ['museum', '--json', 'file', (o) => ['museum', '--bug', 'crucible/replace-while-initializing', `--json=${o}`], []],
  ['museum', '--junit', 'file', (o) => ['museum', '--bug', 'crucible/replace-while-initializing', '--junit', o], []],
  ['bench', '--json', 'file', (o) => ['bench', '--only', 'search', `--json=${o}`], []],
];

/** Each way a path can be wrong for its kind, with what the one line must say. */
function problems(kind: 'file' | 'dir', inputs: readonly string[]): [string, string, RegExp][] {
  const leaf = kind === 'file' ? 'x.json' : 'tapes';
  return [
    // A folder output is created with its parents, so only a file's missing folder is wrong.
    ...(kind === 'file' ? [['in a folder that does not exist', join(dir, 'no-such-folder', leaf), /folder .*no-such-folder does not exist/] as [string, string, RegExp]] : []),
    ['in a folder that is not writable', join(readOnly, leaf), /is not writable/],
    ['under a file', join(aFile, leaf), /is not a folder/],
    kind === 'file' ? ['a folder', dir, /is a folder, not a file/] : ['a file', aFile, /is a file, not a folder/],
    ...inputs.map((i): [string, string, RegExp] => ["the command's own input", i, /is also an input of this command: writing it would destroy/]),
  ];
}

for (const [command, flag, kind, argv, inputs] of CASES) {
  for (const [what, path, message] of problems(kind, inputs)) {
    test.serial(`${command} ${flag} ${what}: one line, exit 2, nothing run`, async (t) => {
      const r = await stairwell(...argv(path));
      t.is(r.code, 2, r.stderr);
      t.regex(r.stderr, message);
      t.regex(r.stderr, new RegExp(`^stairwell: ${flag.replace(/-/g, '\\-')} `));
      t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      t.is(r.stdout, '', 'no work started');
    });
  }
}

test.serial('two outputs on one path are refused before any work', async (t) => {
  const path = join(dir, 'both.json');
  const r = await stairwell('sweep', 'crucible-takeover', '--seeds', '1..5', `--json=${path}`, '--junit', path);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), `stairwell: --junit ${path} is also the path of --json: one would overwrite the other`);
});

test.serial('the default path of a shrunk tape is checked too, and never the input', async (t) => {
  const r = await stairwell('shrink', tape, '--out', tape);
  t.is(r.code, 2);
  t.regex(r.stderr, /--out .* is also an input of this command/);
});

test.serial('a folder output that does not exist yet is created, parents and all', async (t) => {
  const tapes = join(dir, 'deep', 'er', 'tapes');
  const r = await stairwell('sweep', 'crucible-takeover', '--seeds', '1..3', '--bug', 'crucible/disable-one-client', '--workers', '1', '--quiet', '--tapes', tapes);
  t.is(r.code, 1);
  t.true(readdirSync(tapes).length > 0);
});

test('the unwritable folder of these tests really is unwritable', (t) => {
  t.throws(() => accessSync(readOnly, constants.W_OK));
});
