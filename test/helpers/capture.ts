// Run something in this process with what it writes to stdout and stderr captured (tests that
// call main() or a command directly). Callers run serially: the streams are the process's.

export interface Captured<T> {
  readonly value: T;
  readonly stdout: string;
  readonly stderr: string;
}

export async function captured<T>(fn: () => T | Promise<T>): Promise<Captured<T>> {
  let stdout = '';
  let stderr = '';
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const value = await fn();
    return { value, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
