/**
 * Where the router's CPU goes per request: the real bundle under full load (1 kB bodies, every
 * request sampled for drift, 64 connections) with V8's sampling profiler (`--cpu-prof`), then
 * the self time grouped by function and by module, as a share of the profile and in µs per
 * request. The `.cpuprofile` is kept (bench/profiles/, git-ignored): open it in Chrome DevTools'
 * Performance panel or speedscope for the flame graph.
 *
 *   node --import tsx bench/routerProfile.ts [--seconds 10]
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter, writeRouterConfig } from '../test/harness/router';
import { REPO_ROOT } from '../test/harness/tools';
import { kilobyteBody } from './lib/bodies';
import { load, startProcess } from './lib/load';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarise(p: Profile, requests: number): void {
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
    n.callFrame.url.replace(/^.*\//, '') || `(${n.callFrame.functionName || 'native'})`;
  console.log(`\nself time by module (${(total / 1e6).toFixed(2)} s sampled, ${requests} requests):`);
  for (const row of group(file).slice(0, 12)) console.log(line(row));
  console.log('\nself time by function (top 30):');
  for (const row of group(
    (n) => `${n.callFrame.functionName || '(anonymous)'} ${file(n)}:${n.callFrame.lineNumber + 1}`,
  ).slice(0, 30))
    console.log(line(row));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-profile-'));
  const profiles = join(REPO_ROOT, 'bench/profiles');
  await mkdir(profiles, { recursive: true });
  const upstream = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  try {
    const config = await writeRouterConfig(dir, {
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          sampleRate: 1,
          variants: [
            { name: 'v1', url: upstream.address, model: 'propensity-v1', weight: 95 },
            { name: 'v2', url: upstream.address, model: 'propensity-v2', weight: 5 },
          ],
        },
      ],
    });
    const before = new Set(await readdir(profiles));
    const router = await startRouter(config, {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const url = `${router.url}/v2/models/propensity/infer`;
    await load(url, { body: kilobyteBody(), seconds: 2, connections: 20 });
    const run = await load(url, { body: kilobyteBody(), seconds: SECONDS, connections: 64 });
    console.log(`${run.total} requests in ${SECONDS} s under full load, ${run.failed} failed`);
    await router.stop();
    const written = (await readdir(profiles)).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
    if (written.length === 0) throw new Error('the router wrote no profile (did it exit cleanly?)');
    const newest = join(profiles, written.sort().at(-1)!);
    console.log(`profile: ${newest}`);
    // The warm-up's requests are in the profile too.
    summarise(JSON.parse(await readFile(newest, 'utf8')) as Profile, run.total);
  } finally {
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
