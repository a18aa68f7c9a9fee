// Bad input: reported as one line on stderr with exit status 2, never a stack trace.

export class UsageError extends Error {
  override name = 'UsageError';
}

export function usage(message: string): never {
  throw new UsageError(message);
}
