// The process that `stairwell` runs (bundled by cli/bin.mjs): in the main thread, the command
// line (cli/main.ts), with a last handler for errors that escape every command; in a sweep's
// worker thread (the same bundle loaded again), the batches it is sent.

import { isMainThread, workerData } from 'node:worker_threads';
import { setWorkerModule } from './commands/sweep.ts';
import { EXIT } from './exit.ts';
import { internalError, main } from './main.ts';
import { serveSweepBatches } from './sweep-pool.ts';

/** Errors that escape every command (a callback, a stream): still one line and exit 3. */
function catchStrays(): void {
  const debug = process.argv.includes('--debug') || process.env.STAIRWELL_DEBUG === '1';
  const stray = (error: unknown): void => {
    process.exitCode = internalError(error, debug);
    process.exit();
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
  // A reader that stops early (`| head`) is not an error at all.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    stray(error);
  });
}

if (isMainThread) {
  catchStrays();
  setWorkerModule(new URL(import.meta.url));
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
} else if ((workerData as { stairwellSweepWorker?: boolean } | null)?.stairwellSweepWorker === true) {
  void serveSweepBatches((workerData as { scenarioFile: string | null }).scenarioFile);
}
