/**
 * Where a cold `model-canary analyze` spends its CPU: the built CLI with V8's sampling profiler
 * (`--cpu-prof`) on the log bench/analyze.ts generated, the self time summarised by module and by
 * function (bench/lib/cpuProfile.ts) and written beside the `.cpuprofile` in bench/profiles/.
 * `--dist` profiles another build (another commit's `dist/`, for a before/after).
 *
 *   node --import tsx bench/analyzeProfile.ts [events] [--dist DIR] [--name analyze-1e6-after]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../test/harness/tools';
import { summariseProfile } from './lib/cpuProfile';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const events = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const dist = resolve(option('--dist') ?? join(REPO_ROOT, 'dist'));
const name = option('--name') ?? `analyze-${events.toExponential(0).replace('+', '')}`;
const log = join(homedir(), `.cache/model-canary/bench/analyze-v1-${events}.jsonl`);
const experiment = join(REPO_ROOT, 'sample-models/experiments/propensity.yaml');

if (!existsSync(log))
  throw new Error(
    `no log of ${events} events at ${log}: run node --import tsx bench/analyze.ts ${events} first`,
  );
const profiles = join(REPO_ROOT, 'bench/profiles');
await mkdir(profiles, { recursive: true });
const before = new Set(await readdir(profiles));
const r = spawnSync(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${profiles}`,
    join(dist, 'cli.js'),
    'analyze',
    '--no-cache',
    '--json',
    '--events',
    log,
    '--experiment',
    experiment,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (r.status !== 0) throw new Error(`${join(dist, 'cli.js')} analyze exited ${r.status ?? r.signal}`);
const written = (await readdir(profiles)).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
if (written.length === 0) throw new Error('the CLI wrote no profile');
const profile = join(profiles, written.sort().at(-1)!);
const summary = await summariseProfile(
  profile,
  join(dist, 'cli.js.map'),
  events,
  { modules: 20, functions: 40 },
  'event',
);
const text = [`${profile} (${dist}/cli.js analyze --no-cache, ${events} events)`, ...summary].join('\n');
await writeFile(join(profiles, `${name}.txt`), text + '\n');
console.log(text);
