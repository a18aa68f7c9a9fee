// Engine assertions. They stay on in every build. A failed engine assertion is a harness bug,
// so it is a distinct error class: the runner never mistakes it for a protocol finding.

export class SimAssertionError extends Error {
  override name = 'SimAssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SimAssertionError(message);
}
