// Engine assertions. They stay on in every build. A failed engine assertion is a harness bug,
// so it is a distinct error class: the runner never mistakes it for a protocol finding.

export class SimAssertionError extends Error {
  override name = 'SimAssertionError';
}

/** For constant messages. A message built from values goes through `fail` behind an `if`, so
 * the string is built only when the assertion fails, never on the hot path. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SimAssertionError(message);
}

export function fail(message: string): never {
  throw new SimAssertionError(message);
}
