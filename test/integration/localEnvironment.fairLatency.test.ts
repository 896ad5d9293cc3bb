import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CONFOUNDING_LOAD_RATIO } from '../../src/core/analysis/guardrails';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const CLI = join(REPO_ROOT, 'dist/cli.js');

/** Pids of the live child processes of `parent` (/proc, field 4 of stat). */
async function childrenOf(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent && fields[0] !== 'Z') out.push(Number(entry));
  }
  return out;
}

/** The session id of a process (field 6 of stat). */
async function sessionOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

// The sample experiment (95/5, spec.serving.workers 8) through the built CLI on real MLServer
// processes and the real router: each arm's MLServer processes follow its traffic share, and
// the report's latency guardrails compare the arms at comparable load per process.
describe('fair latency comparison in the local environment (sample experiment, sized MLServer processes)', function () {
  let ws: string;
  const cli = (...args: string[]) =>
    execa('node', [CLI, ...args, '--workspace', ws], { reject: false, timeout: 300_000 });

  before(async () => {
    ws = await mkdtemp(join(tmpdir(), 'mc-fair-'));
    await cp(SAMPLE_MODELS, ws, { recursive: true, filter: (src) => !src.includes('.model-canary') });
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
  });

  after(async () => {
    await cli('down');
    await rm(ws, { recursive: true, force: true });
  });

  it('deploy runs v1 on 8 MLServer processes sharing one port and v2 on one, and status says so', async function () {
    if (process.platform !== 'linux') this.skip(); // one process per model elsewhere (mlserverWorkers.ts)
    const res = await cli('deploy', join(ws, 'experiments/propensity.yaml'));
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(res.stderr, /MLServer processes sized to the traffic shares: v1 8, v2 1/);
    const s = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const v1 = s.components.find((c) => c.name === 'propensity-v1')!;
    const v2 = s.components.find((c) => c.name === 'propensity-v2')!;
    assert.equal(v1.state, 'ready');
    assert.match(v1.detail ?? '', /^8 MLServer processes on one port/);
    assert.equal(v2.detail, undefined);
    // The launcher's 8 MLServers, each in a session of its own (mlserverWorkers.ts).
    const workers = await childrenOf(Number(v1.id));
    assert.equal(workers.length, 8);
    assert.equal(new Set(await Promise.all(workers.map(sessionOf))).size, 8);
  });

  // The original false breach: v1 (95%, one process) p95 252 ms and breached, v2 (5%) 33 ms and
  // not; sized or not, without a session per worker v1 still answered 2.3–2.8× slower. A quiet
  // machine serves the sample model far within the 50 ms limit and nothing breaches; on a
  // machine busy with other work both arms can go over it alike, which is the machine's reading,
  // not the split's. So: the baseline never breaches while the candidate is within the limit,
  // and it is not the slow one.
  it('sample traffic through the router: v1 breaches no latency guardrail the candidate meets, at load per process within the confounding limit', async () => {
    const sim = await cli('simulate', 'propensity', '--requests', '2000', '--rps', '30', '--json');
    assert.equal(sim.exitCode, 0, sim.stderr);
    const summary = JSON.parse(sim.stdout) as { ok: number; firstError?: string };
    assert.equal(summary.ok, 2000, summary.firstError);
    const report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    const loads = report.variants.map((v) => v.loadPerReplica ?? NaN);
    const line = report.variants
      .map(
        (v) =>
          `${v.name}: ${v.requests} requests, p95 ${v.latencyMs.p95.toFixed(1)} ms, ${v.loadPerReplica?.toFixed(2)} req/s per process`,
      )
      .join('; ')
      .concat(` (machine load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(`      ${line}`);
    // The control: without the sizing the two arms' load per process differs 19-fold.
    assert.ok(
      Math.max(...loads) < CONFOUNDING_LOAD_RATIO * Math.min(...loads),
      `load per process within ${CONFOUNDING_LOAD_RATIO}×: ${line}`,
    );
    const latency = report.guardrails.filter((g) => g.name === 'latencyP95Ms');
    assert.equal(latency.length, 2);
    assert.deepEqual(
      latency.map((g) => g.confounded),
      [undefined, undefined],
    );
    // The false breach of the issue: the busy baseline over the limit while the candidate is within it.
    const g1 = latency.find((g) => g.variant === 'v1')!;
    const g2 = latency.find((g) => g.variant === 'v2')!;
    assert.ok(g1.ok || !g2.ok, `v1 alone breaches ${g1.limit} ms: ${line}`);
    const v1 = report.variants.find((v) => v.name === 'v1')!;
    const v2 = report.variants.find((v) => v.name === 'v2')!;
    assert.ok(
      v1.latencyMs.p95 <= 1.5 * v2.latencyMs.p95,
      `the baseline's p95 within 1.5× of the candidate's: ${line}`,
    );
  });

  it('without spec.serving every variant runs one process, and deploy says their latencies are compared at unequal load', async () => {
    const file = join(ws, 'experiments/unsized.yaml');
    const text = await readFile(join(ws, 'experiments/propensity.yaml'), 'utf8');
    await writeFile(
      file,
      text
        .replace('name: propensity\n', 'name: unsized\n')
        .replace('endpoint: propensity', 'endpoint: unsized')
        .replace(/\n\s*serving: \{ workers: 8 \}/, '')
        .replace('propensity-v1, role', 'propensity-v1-encoded, role'),
    );
    const res = await cli('deploy', file);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(
      res.stderr,
      /every variant runs one MLServer process: at weights 95\/5 their latencies are compared at unequal load — set spec\.serving\.workers/,
    );
    const s = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const encoded = s.components.find((c) => c.name === 'propensity-v1-encoded')!;
    assert.equal(encoded.state, 'ready');
    assert.equal(encoded.detail, undefined);
  });
});
