// Bad input from a user (a tape that is not one, a scenario file that does not load, a registry
// that contradicts itself): the library throws an InputError, and the command line prints its
// message in one line and exits 2, never a stack trace.

export class InputError extends Error {
  override name = 'InputError';
}
