/**
 * MLServer alone beside the router in front of it (issue #20, "Fair latency comparisons"): `wrk`
 * (Debian's, tools/install-bench-tools.sh) POSTs one row of the sample traffic to the sample
 * model's V2 endpoint on a real MLServer process, then the same body through the router to the
 * same process, in turns, same run. It prints p50 and p99 of each, what the router adds, and the
 * router's share of the end-to-end latency. Closed loop over a few connections (default 1, so
 * the model server never queues: what is measured is service time, not a queue).
 *
 *   node --import tsx bench/mlserverAlone.ts [--seconds 10] [--rounds 3] [--connections 1]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServer } from '../src/runtime/modelServer';
import { startRouter, writeRouterConfig, type RunningRouter } from '../test/harness/router';
import { startSampleModelServers } from '../test/harness/sampleServers';
import { SAMPLE_MODELS } from '../test/harness/tools';
import { quick, record } from './lib/figures';
import { numberArg, shareArg } from './lib/args';

const SECONDS = numberArg('--seconds', quick ? 3 : 10);
const ROUNDS = numberArg('--rounds', quick ? 1 : 3);
const CONNECTIONS = numberArg('--connections', 1);
/** The router's drift sampling rate (routerConfig `sampleRate`; default 1, every request). */
const SAMPLE_RATE = shareArg('--sample-rate', 1);
const LUA = join(import.meta.dirname, 'mlserverPost.lua');

/** Row 1 of data/traffic.csv, one V2 input per column (MLServer's pandas codec). */
const BODY = JSON.stringify({
  parameters: { content_type: 'pd' },
  inputs: [
    { name: 'age', shape: [1], datatype: 'INT64', data: [27] },
    { name: 'tenure_months', shape: [1], datatype: 'INT64', data: [24] },
    { name: 'sessions_30d', shape: [1], datatype: 'INT64', data: [9] },
    { name: 'basket_value', shape: [1], datatype: 'FP64', data: [92.41] },
    { name: 'channel', shape: [1], datatype: 'BYTES', data: ['app'] },
    { name: 'region', shape: [1], datatype: 'BYTES', data: ['east'] },
  ],
});

interface WrkRun {
  rps: number;
  failed: number;
  p50: number;
  p99: number;
}

function wrk(url: string, bodyFile: string): WrkRun {
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-s', LUA, url], {
    env: { ...process.env, MC_BODY_FILE: bodyFile },
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.startsWith('MC-RESULT '));
  if (!line) throw new Error(`wrk printed no result line:\n${out}`);
  const [requests, failed, p50us, p99us, seconds] = line.split(' ').slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { rps: requests / seconds, failed, p50: p50us / 1000, p99: p99us / 1000 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('wrk is not installed — run tools/install-bench-tools.sh');
  }
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-mlserver-'));
  const bodyFile = join(dir, 'body.json');
  await writeFile(bodyFile, BODY);
  let servers: ModelServer[] = [];
  let router: RunningRouter | undefined;
  try {
    servers = await startSampleModelServers(['propensity-v1'], dir);
    const mlserver = servers[0]!;
    router = await startRouter(
      await writeRouterConfig(dir, {
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile: join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
            sampleRate: SAMPLE_RATE,
            variants: [{ name: 'v1', url: mlserver.url, model: 'propensity-v1', weight: 100 }],
          },
        ],
      }),
    );
    const direct = `${mlserver.url}/v2/models/propensity-v1/infer`;
    const routed = `${router.url}/v2/models/propensity/infer`;
    console.log(
      `MLServer alone vs through the router, same process, wrk -c${CONNECTIONS}, ${ROUNDS} × ${SECONDS} s each, in turns`,
    );
    const runs = { direct: [] as WrkRun[], routed: [] as WrkRun[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of [
        ['direct', direct],
        ['routed', routed],
      ] as const) {
        const r = wrk(url, bodyFile);
        runs[name].push(r);
        console.log(
          `  round ${round + 1} ${name.padEnd(6)}  ${r.rps.toFixed(0).padStart(5)} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${r.failed ? `  ${r.failed} failed` : ''}`,
        );
      }
    }
    const failed = [...runs.direct, ...runs.routed].reduce((n, r) => n + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} requests failed — see the MLServer log in ${dir}`);
    const fig = (list: WrkRun[], key: 'p50' | 'p99' | 'rps') => median(list.map((r) => r[key]));
    const d = { p50: fig(runs.direct, 'p50'), p99: fig(runs.direct, 'p99'), rps: fig(runs.direct, 'rps') };
    const r = { p50: fig(runs.routed, 'p50'), p99: fig(runs.routed, 'p99'), rps: fig(runs.routed, 'rps') };
    const share = (r.p50 - d.p50) / r.p50;
    console.log(`\nmedian of ${ROUNDS} rounds:`);
    console.log(`  MLServer alone   p50 ${ms(d.p50)}  p99 ${ms(d.p99)}  ${d.rps.toFixed(0)} req/s`);
    console.log(`  through router   p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  ${r.rps.toFixed(0)} req/s`);
    console.log(
      `  router adds      p50 ${ms(r.p50 - d.p50)}  p99 ${ms(r.p99 - d.p99)} — ${(100 * share).toFixed(1)}% of the end-to-end p50`,
    );
    const base = { unit: 'ms', better: 'lower', ratio: false } as const;
    record({
      ...base,
      id: 'mlserverAlone.directP50',
      label: 'MLServer alone, sample model, p50',
      value: d.p50,
    });
    record({
      ...base,
      id: 'mlserverAlone.directP99',
      label: 'MLServer alone, sample model, p99',
      value: d.p99,
    });
    record({
      ...base,
      id: 'mlserverAlone.routedP50',
      label: 'Sample model through the router, p50',
      value: r.p50,
    });
    record({
      ...base,
      id: 'mlserverAlone.routedP99',
      label: 'Sample model through the router, p99',
      value: r.p99,
    });
    record({
      id: 'mlserverAlone.routerShareP50',
      label: "Router's share of end-to-end p50 on the sample model",
      value: 100 * share,
      unit: '%',
      better: 'lower',
      ratio: true,
    });
    record({
      id: 'mlserverAlone.directRps',
      label: 'MLServer alone, sample model, one connection',
      value: d.rps,
      unit: 'req/s',
      better: 'higher',
      ratio: false,
    });
  } finally {
    await router?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
