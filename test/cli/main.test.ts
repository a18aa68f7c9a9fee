import test from 'ava';
import { main, type Handler } from '../../cli/main.ts';
import { usage } from '../../cli/exit.ts';
import { captured } from '../helpers/capture.ts';

// The one place errors become exit statuses (cli/main.ts).

async function run(argv: string[], commands: Record<string, Handler>): Promise<{ code: number; stderr: string }> {
  const r = await captured(() => main(argv, commands));
  return { code: r.value, stderr: r.stderr };
}

const broken: Record<string, Handler> = {
  list: () => {
    throw new TypeError("Cannot read properties of undefined (reading 'vmmId')");
  },
  run: async () => {
    await Promise.resolve();
    throw new Error('a failing oracle');
  },
  sweep: () => usage('a usage error from deep inside'),
};

test.serial('a bug in stairwell is one line and exit 3, with no stack', async (t) => {
  const r = await run(['list'], broken);
  t.is(r.code, 3);
  t.is(r.stderr, "stairwell: internal error: Cannot read properties of undefined (reading 'vmmId') (a bug in stairwell, not a finding; --debug or STAIRWELL_DEBUG=1 prints the stack)\n");
  const later = await run(['run', 'x'], broken);
  t.is(later.code, 3, 'an asynchronous failure too');
  t.is(later.stderr.split('\n').length, 2);
});

test.serial('--debug (or STAIRWELL_DEBUG=1) prints the stack', async (t) => {
  const r = await run(['list', '--debug'], broken);
  t.is(r.code, 3);
  t.regex(r.stderr, /^stairwell: internal error: TypeError: Cannot read properties[^\n]*\n\s+at /);
  process.env.STAIRWELL_DEBUG = '1';
  try {
    t.regex((await run(['list'], broken)).stderr, /\n\s+at /);
  } finally {
    delete process.env.STAIRWELL_DEBUG;
  }
});

test.serial('a usage error raised anywhere is one line and exit 2', async (t) => {
  const r = await run(['sweep'], broken);
  t.is(r.code, 2);
  t.is(r.stderr, 'stairwell: a usage error from deep inside\n');
});
