/**
 * Where the router's CPU goes per request: the real bundle under full load (1 kB bodies, every
 * request sampled for drift, 64 connections) with V8's sampling profiler (`--cpu-prof`), then
 * the self time grouped by function and by module, as a share of the profile and in µs per
 * request. The `.cpuprofile` is kept (bench/profiles/, git-ignored): open it in Chrome DevTools'
 * Performance panel or speedscope for the flame graph.
 *
 *   node --import tsx bench/routerProfile.ts [--seconds 10] [--connections 64] [--rate 1000]
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/harness/tools';
import { kilobyteBody } from './lib/bodies';
import { load, startProcess } from './lib/load';
import { startSplitRouter } from './lib/splitRouter';

const arg = (name: string): number => Number(process.argv[process.argv.indexOf(name) + 1]);
const SECONDS = arg('--seconds') || 10;
const CONNECTIONS = arg('--connections') || 64;
const RATE = arg('--rate') || undefined;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `router.js:line` (minified) → `src file:line` through the bundle's source map. */
async function sourceMapper(): Promise<(n: ProfileNode) => string | undefined> {
  const map = new SourceMap(JSON.parse(await readFile(join(REPO_ROOT, 'dist/router.js.map'), 'utf8')));
  return (n) => {
    if (!n.callFrame.url.endsWith('router.js')) return undefined;
    const e = map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber);
    if (!('originalSource' in e)) return undefined;
    const src = e.originalSource.replace(/^.*?(src|node_modules)\//, '$1/');
    return `${(e as { name?: string }).name ?? n.callFrame.functionName} ${src}:${e.originalLine + 1}`;
  };
}

function summarise(p: Profile, requests: number, mapped: (n: ProfileNode) => string | undefined): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const group = (key: (n: ProfileNode) => string): [string, number][] => {
    const m = new Map<string, number>();
    for (const [id, t] of self) {
      const k = key(byId.get(id)!);
      m.set(k, (m.get(k) ?? 0) + t);
    }
    return [...m].sort((a, b) => b[1] - a[1]);
  };
  const line = ([k, t]: [string, number]) =>
    `  ${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / requests).toFixed(1).padStart(6)} µs/req  ${k}`;
  const file = (n: ProfileNode) =>
    mapped(n)?.replace(/^\S+ /, '').replace(/:\d+$/, '') ??
    (n.callFrame.url.replace(/^.*\//, '') || `(${n.callFrame.functionName || 'native'})`);
  console.log(`\nself time by module (${(total / 1e6).toFixed(2)} s sampled, ${requests} requests):`);
  for (const row of group(file).slice(0, 20)) console.log(line(row));
  console.log('\nself time by function (top 40):');
  for (const row of group(
    (n) =>
      mapped(n) ?? `${n.callFrame.functionName || '(anonymous)'} ${file(n)}:${n.callFrame.lineNumber + 1}`,
  ).slice(0, 40))
    console.log(line(row));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-profile-'));
  const profiles = join(REPO_ROOT, 'bench/profiles');
  await mkdir(profiles, { recursive: true });
  const upstream = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  try {
    const before = new Set(await readdir(profiles));
    const router = await startSplitRouter(dir, upstream.address, 1, {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const url = `${router.url}/v2/models/propensity/infer`;
    const warm = await load(url, {
      body: kilobyteBody(),
      seconds: 2,
      connections: RATE ? CONNECTIONS : 20,
      ...(RATE ? { rate: RATE } : {}),
    });
    const run = await load(url, {
      body: kilobyteBody(),
      seconds: SECONDS,
      connections: CONNECTIONS,
      ...(RATE ? { rate: RATE } : {}),
    });
    console.log(
      `${run.total} requests in ${SECONDS} s over ${CONNECTIONS} connections${RATE ? ` at ${RATE} req/s` : ' (full load)'}, ${run.failed} failed`,
    );
    await router.stop();
    const written = (await readdir(profiles)).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
    if (written.length === 0) throw new Error('the router wrote no profile (did it exit cleanly?)');
    const newest = join(profiles, written.sort().at(-1)!);
    console.log(`profile: ${newest}`);
    // The warm-up's requests are in the profile too (so are the start and the stop).
    summarise(
      JSON.parse(await readFile(newest, 'utf8')) as Profile,
      warm.total + run.total,
      await sourceMapper(),
    );
  } finally {
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
