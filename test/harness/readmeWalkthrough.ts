/**
 * The README's kind walkthrough is checked against what the cluster tier ran: every
 * `model-canary …` line between the README's markers must match a command of the run — the same
 * verb and positional arguments, and every flag it shows with the same value, except the flags
 * whose value is the machine's own (a workspace path, a port, an image, the kind binary).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './tools';

const START = '<!-- kind-walkthrough:start -->';
const END = '<!-- kind-walkthrough:end -->';
const MACHINE_FLAGS = new Set(['--workspace', '--port', '--image', '--kind']);

/** The `model-canary` command lines of the README's kind walkthrough, as argument lists. */
export function readmeWalkthrough(): string[][] {
  const text = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section`);
  return text
    .slice(start, end)
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('model-canary '))
    .map((l) => l.split(/\s+/).slice(1));
}

interface Parsed {
  positional: string[];
  flags: Map<string, string>;
}

function parse(args: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        flags.set(a, next);
        i++;
      } else flags.set(a, '');
    } else positional.push(a);
  }
  return { positional, flags };
}

/** Positional arguments match as given, or a path by its ending (`experiments/propensity.yaml`). */
const samePositional = (shown: string, ran: string): boolean =>
  shown === ran || (shown.includes('/') && ran.endsWith(`/${shown}`)) || basename(ran) === shown;

/** Whether `ran` is the command the README line `shown` describes. */
export function matchesRun(shown: string[], ran: string[]): boolean {
  const s = parse(shown);
  const r = parse(ran);
  if (s.positional.length !== r.positional.length) return false;
  if (!s.positional.every((p, i) => samePositional(p, r.positional[i]!))) return false;
  for (const [flag, value] of s.flags) {
    if (!r.flags.has(flag)) return false;
    if (!MACHINE_FLAGS.has(flag) && r.flags.get(flag) !== value) return false;
  }
  return true;
}

/** README lines no command of the run matches. */
export function unmatchedWalkthrough(ran: string[][]): string[] {
  return readmeWalkthrough()
    .filter((shown) => !ran.some((r) => matchesRun(shown, r)))
    .map((shown) => `model-canary ${shown.join(' ')}`);
}
