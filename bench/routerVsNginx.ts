/**
 * The router beside nginx, in the same run, on the same stub upstream: what each adds over
 * calling the stub directly at 1,000 req/s, and the ratio router ÷ nginx (target ≤ 1.0).
 *
 * nginx is Debian's nginx-light (tools/install-bench-tools.sh), one worker, doing what the
 * router does at its simplest: `split_clients` on the request id sends 95% to v1 and 5% to v2,
 * each an upstream with keep-alive connections, and the path is rewritten to the variant's model
 * (`/v2/models/propensity/infer` → `/v2/models/propensity-v1/infer`). The router runs the same
 * split with every request sampled for drift (its default) and without. Load: autocannon at
 * 1,000 req/s over one connection (each response's own time), three rounds in turn, so a noisy
 * moment of the shared machine hits every path alike. `--pin` (bench/lib/pin.ts): autocannon on
 * one core, the stub, nginx and the routers on the other. `--open-loop`: vegeta at 1,000 req/s
 * open loop (bench/lib/vegeta.ts, built on first use) instead of autocannon, whose rate limit
 * over one connection is a closed loop. Both printed, not recorded.
 *
 *   node --import tsx bench/routerVsNginx.ts [--seconds 10] [--rounds 3] [--pin] [--open-loop]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningRouter } from '../test/harness/router';
import { nginxBinary, startNginx } from './lib/nginx';
import { startSplitRouter } from './lib/splitRouter';
import { quick, record } from './lib/figures';
import { PIN, PINNED, pin, withChildren } from './lib/pin';
import { numberArg } from './lib/args';
import { load, ms, pct, startProcess, type Run } from './lib/load';
import { openLoop, vegetaBinary } from './lib/vegeta';

const SECONDS = numberArg('--seconds', quick ? 4 : 10);
const ROUNDS = numberArg('--rounds', 3);
const RATE = 1_000;
/** vegeta's open loop instead of autocannon's rate limit over one connection (bench/lib/vegeta.ts). */
const OPEN_LOOP = process.argv.includes('--open-loop');
const BODY = JSON.stringify({
  inputs: [
    { name: 'age', shape: [1], datatype: 'INT64', data: [41] },
    { name: 'basket_value', shape: [1], datatype: 'FP64', data: [52.5] },
  ],
});

/** nginx with split_clients in front of the stub; resolves once it answers. */
async function startSplitNginx(
  binary: string,
  dir: string,
  upstream: string,
): Promise<{ url: string; proc: ChildProcess }> {
  const target = upstream.replace(/^http:\/\//, '');
  const url = (port: number): string => `http://127.0.0.1:${port}/v2/models/propensity/infer`;
  const { port, proc } = await startNginx(
    binary,
    dir,
    (port) => `
  upstream v1 { server ${target}; keepalive 32; }
  upstream v2 { server ${target}; keepalive 32; }
  split_clients "\${request_id}" $variant { 95% v1; * v2; }
  map $variant $model { v1 propensity-v1; v2 propensity-v2; }
  server {
    listen 127.0.0.1:${port};
    location = /v2/models/propensity/infer {
      proxy_pass http://$variant/v2/models/$model/infer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
    (port) =>
      fetch(url(port), { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } }).then(
        (r) => r.ok,
      ),
  );
  return { url: url(port), proc };
}

async function main(): Promise<void> {
  const binary = nginxBinary();
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-nginx-'));
  const stub = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  const routers: RunningRouter[] = [];
  let nginx: { url: string; proc: ChildProcess } | undefined;
  try {
    nginx = await startSplitNginx(binary, join(dir, 'nginx'), stub.address);
    const router = async (sampleRate: number): Promise<string> => {
      const r = await startSplitRouter(dir, stub.address, sampleRate);
      routers.push(r);
      return `${r.url}/v2/models/propensity/infer`;
    };
    const paths: [string, string][] = [
      ['direct', `${stub.address}/v2/models/propensity-v1/infer`],
      ['nginx split_clients', nginx.url],
      ['router, sampled', await router(1)],
      ['router, unsampled', await router(0)],
    ];
    if (PINNED) {
      pin(PIN.load, [process.pid]);
      pin(PIN.served, [stub.proc.pid!, ...withChildren(nginx.proc.pid!), ...routers.map((r) => r.proc.pid!)]);
    }
    const vegeta = OPEN_LOOP ? vegetaBinary() : undefined;
    const at = (url: string, seconds: number): Promise<Run> =>
      vegeta
        ? Promise.resolve(openLoop(vegeta, url, BODY, seconds, RATE))
        : load(url, { body: BODY, seconds, connections: 1, rate: RATE });
    const generator = vegeta ? 'vegeta' : 'autocannon';
    for (const [, url] of paths) await at(url, 2);
    console.log(
      `${ROUNDS} rounds of ${SECONDS} s per path at ${RATE} req/s, ${vegeta ? 'open loop (vegeta)' : 'autocannon over one connection'}; ${process.arch}, Node ${process.version}` +
        (PINNED
          ? `; pinned: ${generator} on core ${PIN.load}, the stub, nginx and the routers on core ${PIN.served}`
          : ''),
    );

    const added: Record<string, { p50: number; p99: number }[]> = {};
    const totalP50: Record<string, number[]> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      const runs = new Map<string, Run>();
      for (const [name, url] of paths) runs.set(name, await at(url, SECONDS));
      const d = runs.get('direct')!;
      console.log(`\nround ${round}:`);
      for (const [name] of paths) {
        const r = runs.get(name)!;
        const a = {
          p50: pct(r.latencies, 0.5) - pct(d.latencies, 0.5),
          p99: pct(r.latencies, 0.99) - pct(d.latencies, 0.99),
        };
        if (name !== 'direct') (added[name] ??= []).push(a);
        (totalP50[name] ??= []).push(pct(r.latencies, 0.5));
        console.log(
          `  ${name.padEnd(20)} p50 ${ms(pct(r.latencies, 0.5))}  p99 ${ms(pct(r.latencies, 0.99))}  ${r.rps.toFixed(0)} req/s, ${r.failed} failed` +
            (name === 'direct' ? '' : `   added p50 ${ms(a.p50)}, p99 ${ms(a.p99)}`),
        );
      }
    }
    const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const nginxP99 = median(added['nginx split_clients']!.map((a) => a.p99));
    console.log(`\nmedian over ${ROUNDS} rounds, added over direct:`);
    for (const name of Object.keys(added)) {
      const p50 = median(added[name]!.map((a) => a.p50));
      const p99 = median(added[name]!.map((a) => a.p99));
      const ratio = name.startsWith('router')
        ? nginxP99 > 0
          ? `   added p99 ÷ nginx's ${(p99 / nginxP99).toFixed(2)} (target ≤ 1.0)`
          : "   (no ratio: nginx's added p99 is within the noise; run longer rounds)"
        : '';
      console.log(`  ${name.padEnd(20)} p50 ${ms(p50)}  p99 ${ms(p99)}${ratio}`);
    }
    const sampled = added['router, sampled']!;
    const p99 = median(sampled.map((a) => a.p99));
    record({
      id: 'routerVsNginx.addedP50',
      label: 'router added p50 at 1,000 req/s',
      value: median(sampled.map((a) => a.p50)),
      unit: 'ms',
      better: 'lower',
      ratio: false,
    });
    record({
      id: 'routerVsNginx.addedP99',
      label: 'router added p99 at 1,000 req/s',
      value: p99,
      unit: 'ms',
      better: 'lower',
      ratio: false,
      target: 0.5,
    });
    if (nginxP99 > 0)
      record({
        id: 'routerVsNginx.addedP99Ratio',
        label: "router added p99 ÷ nginx split_clients' added p99",
        value: p99 / nginxP99,
        unit: '×',
        better: 'lower',
        ratio: true,
        target: 1,
      });
    // End-to-end p50 through each path: far steadier than a ratio of small added figures.
    const p50Of = (name: string) => median(totalP50[name]!);
    const p50Ratio = p50Of('router, sampled') / p50Of('nginx split_clients');
    console.log(`  p50 through the router ÷ p50 through nginx: ${p50Ratio.toFixed(2)}×`);
    record({
      id: 'routerVsNginx.p50Ratio',
      label: 'p50 through the router ÷ p50 through nginx',
      value: p50Ratio,
      unit: '×',
      better: 'lower',
      ratio: true,
    });
  } finally {
    for (const r of routers) await r.stop();
    nginx?.proc.kill('SIGTERM');
    stub.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
