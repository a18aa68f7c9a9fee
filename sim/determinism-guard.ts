// The determinism guard. While a run is in progress, wall-clock time, ambient randomness and real
// timers are off limits to everything it executes: Math.random, Date.now / new Date(),
// performance.now, setTimeout / setInterval / setImmediate, and crypto's random sources (the Web
// Crypto global and node:crypto). Reaching for one throws a DeterminismViolation that names the
// call site; the simulator reports it as a finding of the node whose code made the call.
// The first violation is also remembered, so code that swallows the error is still caught.

import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

export class DeterminismViolation extends Error {
  override name = 'DeterminismViolation';
}

interface Patch {
  readonly target: object;
  readonly key: string;
  /** The target's own property before patching, undefined if it had none (inherited). */
  readonly original: PropertyDescriptor | undefined;
}

let installed: Patch[] | null = null;
let firstViolation: string | null = null;

/** The first forbidden call seen since `installGuard`, even if the caller caught the error. */
export function guardViolation(): string | null {
  return firstViolation;
}

export function installGuard(): void {
  if (installed !== null) throw new Error('determinism guard installed twice');
  firstViolation = null;
  const patches: Patch[] = [];
  const patch = (target: object, key: string, what: string, value: unknown = forbidden(what)): void => {
    const original = Object.getOwnPropertyDescriptor(target, key);
    if (original !== undefined && original.configurable !== true) return;
    patches.push({ target, key, original });
    Object.defineProperty(target, key, { value, configurable: true, writable: true, enumerable: original?.enumerable ?? false });
  };
  patch(Math, 'random', 'Math.random()');
  patch(globalThis, 'setTimeout', 'setTimeout()');
  patch(globalThis, 'setInterval', 'setInterval()');
  patch(globalThis, 'setImmediate', 'setImmediate()');
  patch(globalThis.performance, 'now', 'performance.now()');
  patch(globalThis.crypto, 'getRandomValues', 'crypto.getRandomValues()');
  patch(globalThis.crypto, 'randomUUID', 'crypto.randomUUID()');
  for (const key of ['randomBytes', 'randomUUID', 'randomInt', 'randomFillSync', 'getRandomValues']) {
    patch(crypto, key, `crypto.${key}()`);
  }
  const RealDate = Date;
  const GuardedDate = function (this: unknown, ...args: unknown[]) {
    if (new.target === undefined) trip('Date()');
    if (args.length === 0) trip('new Date()');
    return Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(GuardedDate, RealDate);
  (GuardedDate as { prototype: Date }).prototype = RealDate.prototype;
  (GuardedDate as { now: () => number }).now = forbidden('Date.now()') as () => number;
  patch(globalThis, 'Date', 'Date', GuardedDate);
  syncBuiltinESMExports();
  installed = patches;
}

export function uninstallGuard(): void {
  if (installed === null) return;
  for (const p of installed.reverse()) {
    if (p.original === undefined) Reflect.deleteProperty(p.target, p.key);
    else Object.defineProperty(p.target, p.key, p.original);
  }
  installed = null;
  syncBuiltinESMExports();
}

/** Run `fn` with the guard on; always restores the real functions. */
export function withGuard<T>(fn: () => T): T {
  installGuard();
  try {
    return fn();
  } finally {
    uninstallGuard();
  }
}

function forbidden(what: string): (...args: unknown[]) => never {
  return () => trip(what);
}

function trip(what: string): never {
  const message = `${what} called during a simulation run at ${callSite()}`;
  firstViolation ??= message;
  throw new DeterminismViolation(message);
}

/** The first stack frame outside this file, shortened to a path relative to the working dir. */
function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  const frame = lines.find((l) => !l.includes('determinism-guard')) ?? '(unknown)';
  const cwd = `file://${process.cwd()}/`;
  return frame.trim().replace(/^at /, '').replaceAll(cwd, '').replaceAll(`${process.cwd()}/`, '');
}
