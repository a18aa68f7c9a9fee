// Output files and folders. Every output path a command was given is checked before any work
// starts (its folder exists and is writable, it is not a folder itself, it is not one of the
// command's own inputs, no two outputs share a path), so a sweep never runs for an hour and then
// fails to save. A write that still fails later (a full disk, a folder removed meanwhile) keeps the
// text in a folder of its own under the system's temporary folder and is remembered; main.ts then
// ends the command with one line per lost write, naming where it was kept, and exit status 4.

import { accessSync, constants, mkdirSync, mkdtempSync, realpathSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { usage } from './exit.ts';

export interface Output {
  /** The option that named it, as the user wrote it: `--json`, `--tapes`. */
  readonly flag: string;
  readonly path: string;
  readonly kind: 'file' | 'dir';
}

/** A write that failed, and where its text went instead. */
export interface LostWrite {
  readonly what: string;
  readonly path: string;
  readonly reason: string;
  /** A file under the temporary folder, or 'stdout' if even that could not be written. */
  readonly keptIn: string;
}

/** Check every output before any work: a UsageError (exit 2) names the first one that cannot be written. */
export function checkOutputs(outputs: readonly Output[], inputs: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const o of outputs) {
    if (o.kind === 'file') checkFile(o);
    else checkDir(o);
    for (const input of inputs) {
      if (samePath(o.path, input)) usage(`${o.flag} ${o.path} is also an input of this command: writing it would destroy ${input}`);
    }
    const key = resolve(o.path);
    const other = seen.get(key);
    if (other !== undefined) usage(`${o.flag} ${o.path} is also the path of ${other}: one would overwrite the other`);
    seen.set(key, o.flag);
  }
}

function checkFile(o: Output): void {
  const path = resolve(o.path);
  const st = statOrNull(path);
  if (st?.isDirectory() === true) usage(`${o.flag} ${o.path} is a folder, not a file`);
  const parent = dirname(path);
  const parentSt = statOrNull(parent);
  if (parentSt === null) usage(`${o.flag} ${o.path}: folder ${parent} does not exist`);
  if (!parentSt.isDirectory()) usage(`${o.flag} ${o.path}: ${parent} is not a folder`);
  if (st === null && !writable(parent)) usage(`${o.flag} ${o.path}: folder ${parent} is not writable`);
  if (st !== null && !writable(path)) usage(`${o.flag} ${o.path} is not writable`);
}

function checkDir(o: Output): void {
  const path = resolve(o.path);
  const st = statOrNull(path);
  if (st !== null) {
    if (!st.isDirectory()) usage(`${o.flag} ${o.path} is a file, not a folder`);
    if (!writable(path)) usage(`${o.flag} ${o.path}: folder is not writable`);
    return;
  }
  // The folder is created (with its parents) when the command writes; the nearest existing ancestor must allow that.
  let ancestor = dirname(path);
  for (let depth = 0; statOrNull(ancestor) === null && depth < 256; depth++) ancestor = dirname(ancestor);
  if (statOrNull(ancestor)?.isDirectory() !== true) usage(`${o.flag} ${o.path}: ${ancestor} is not a folder`);
  if (!writable(ancestor)) usage(`${o.flag} ${o.path}: folder ${ancestor} is not writable`);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Two paths name one file: the same resolved path, or the same file through a link. */
export function samePath(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const [sa, sb] = [statOrNull(a), statOrNull(b)];
  if (sa === null || sb === null) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino && sa.isFile()) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Writes the command's outputs; what cannot be written where asked is kept elsewhere and remembered. */
export class OutputWriter {
  readonly lost: LostWrite[] = [];
  #keepDir: string | null = null;

  /** Write `text` to `path`; on failure keep it under the temporary folder. Returns where it went. */
  write(path: string, text: string, what: string): string {
    try {
      writeFileSync(path, text);
      return path;
    } catch (error) {
      const keptIn = this.#keep(path, text);
      this.lost.push({ what, path, reason: reasonOf(error), keptIn });
      return keptIn;
    }
  }

  /** A write made again later with more (a sweep's results so far): a failure is left to the final write. */
  writeInterim(path: string, text: string): void {
    try {
      writeFileSync(path, text);
    } catch {
      // The final write of the same path reports and keeps it.
    }
  }

  /** Create an output folder (checked beforehand); a failure here is reported like a lost write. */
  makeDir(path: string): boolean {
    try {
      mkdirSync(path, { recursive: true });
      return true;
    } catch (error) {
      this.lost.push({ what: 'an output folder', path, reason: reasonOf(error), keptIn: this.#keepFolder() });
      return false;
    }
  }

  /** One line per lost write, as main.ts prints them. */
  lostLines(): string[] {
    return this.lost.map((l) => `could not write ${l.what} to ${l.path} (${l.reason}); ${l.keptIn === 'stdout' ? 'printed it on stdout instead' : `kept it in ${l.keptIn}`}`);
  }

  #keep(path: string, text: string): string {
    try {
      const kept = join(this.#keepFolder(), basename(path) || 'output');
      writeFileSync(kept, text);
      return kept;
    } catch {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      return 'stdout';
    }
  }

  #keepFolder(): string {
    this.#keepDir ??= mkdtempSync(join(tmpdir(), 'stairwell-kept-'));
    return this.#keepDir;
  }
}

function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code !== undefined ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : String(error);
}

/** The one writer of this process: main.ts reports what it lost when the command ends. */
export const outputs = new OutputWriter();
