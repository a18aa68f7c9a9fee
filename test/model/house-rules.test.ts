// The house rules of model/, checked rather than hoped for: no function longer than 70 lines
// (nested functions count inside their parent, so a long closure holding `let` state fails), every
// node file states its fault model in its header, and model/ imports nothing but the ports.
// Functions are found by @babel/parser's TypeScript grammar, not by counting braces.
import test from 'ava';
import { parse } from '@babel/parser';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAX_LINES = 70;
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassMethod', 'ClassPrivateMethod', 'ObjectMethod']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Located {
  readonly type: string;
  readonly loc: { readonly start: { readonly line: number }; readonly end: { readonly line: number } };
  readonly id?: { readonly name?: string } | null;
  readonly key?: { readonly name?: string };
}

/** Every function in `file` longer than the limit, as `file:line name (N lines)`. */
function longFunctions(file: string): string[] {
  const long: string[] = [];
  const stack: unknown[] = [parse(readFileSync(file, 'utf8'), { sourceType: 'module', plugins: ['typescript'] }).program];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    const n = node as Located;
    if (FUNCTIONS.has(n.type)) {
      const lines = n.loc.end.line - n.loc.start.line + 1;
      if (lines > MAX_LINES) long.push(`${file}:${n.loc.start.line} ${n.id?.name ?? n.key?.name ?? '(anonymous)'} (${lines} lines)`);
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'loc' && typeof value === 'object') stack.push(value);
  }
  return long;
}

test(`no function in model/ is longer than ${MAX_LINES} lines`, (t) => {
  t.deepEqual(sources('model').flatMap(longFunctions), []);
});

test('the measure finds a long function (a 71-line closure fails, a 70-line one passes)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'house-rules-'));
  const fn = (lines: number): string => `export function boot(): void {\n${Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n')}\n}\n`;
  writeFileSync(join(dir, 'long.ts'), fn(71));
  writeFileSync(join(dir, 'ok.ts'), fn(70));
  t.deepEqual(longFunctions(join(dir, 'long.ts')), [`${join(dir, 'long.ts')}:1 boot (71 lines)`]);
  t.deepEqual(longFunctions(join(dir, 'ok.ts')), []);
});

test("every node file states its fault model in its header", (t) => {
  const nodes = sources('model').filter((f) => f.endsWith('/node.ts') || f.endsWith('control-plane.ts'));
  t.true(nodes.length >= 9);
  const silent = nodes.filter((f) => !/^\/\/[^\n]*\n(?:\/\/[^\n]*\n)*?\/\/[^\n]*[Ff]ault model/.test(readFileSync(f, 'utf8')));
  t.deepEqual(silent, []);
});

test('panicUnless takes a constant message: one built from values goes in `if (!ok) panic(`...`)`, built only on failure', (t) => {
  const built = sources('model').flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (/panicUnless\(.*`[^`]*\$\{/.test(line) ? [`${f}:${i + 1}`] : [])));
  t.deepEqual(built, []);
});

test('model/ imports nothing from sim/, oracle/, scenarios/, api/ or cli/', (t) => {
  const crossing = sources('model').filter((f) => /from '(?:\.\.\/)+(?:sim|oracle|scenarios|api|cli)\//.test(readFileSync(f, 'utf8')));
  t.deepEqual(crossing, []);
});
