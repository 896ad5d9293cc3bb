/**
 * Where the router's CPU goes per request: the real bundle under full load (1 kB bodies, every
 * request sampled for drift, 64 connections) with V8's sampling profiler (`--cpu-prof`), then
 * the self time grouped by function and by module, as a share of the profile and in µs per
 * request. The `.cpuprofile` is kept (bench/profiles/, git-ignored): open it in Chrome DevTools'
 * Performance panel or speedscope for the flame graph.
 *
 *   node --import tsx bench/routerProfile.ts [--seconds 10] [--connections 64] [--rate 1000]
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/harness/tools';
import { kilobyteBody } from './lib/bodies';
import { summariseProfile } from './lib/cpuProfile';
import { load, startProcess } from './lib/load';
import { startSplitRouter } from './lib/splitRouter';

const arg = (name: string): number => Number(process.argv[process.argv.indexOf(name) + 1]);
const SECONDS = arg('--seconds') || 10;
const CONNECTIONS = arg('--connections') || 64;
const RATE = arg('--rate') || undefined;

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
    const summary = await summariseProfile(
      newest,
      join(REPO_ROOT, 'dist/router.js.map'),
      warm.total + run.total,
    );
    console.log(`\n${summary.join('\n')}`);
  } finally {
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
