import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CONFOUNDING_LOAD_RATIO } from '../../src/core/analysis/guardrails';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

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

// The sample experiment (95/5) with spec.serving.workers 3 through the built CLI on real MLServer
// processes and the real router: each arm's MLServer processes follow its traffic share, and
// the report's latency guardrails compare the arms at comparable load per process.
describe('fair latency comparison in the local environment (sample experiment, sized MLServer processes)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 300_000);

  before(async () => {
    ws = await copySampleModels('mc-fair-');
    // The sample runs one process per variant (sample-models/experiments/propensity.yaml): size this copy.
    const file = join(ws, 'experiments/propensity.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/\n {2}rollout: /, '\n  serving: { workers: 3 }\n  rollout: '));
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it('deploy runs v1 on 3 MLServer processes sharing one port and v2 on one, and status says so', async function () {
    if (process.platform !== 'linux') this.skip(); // one process per model elsewhere (mlserverWorkers.ts)
    const res = await cli('deploy', join(ws, 'experiments/propensity.yaml'));
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(res.stderr, /MLServer processes sized to the traffic shares: v1 3, v2 1/);
    const s = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const v1 = s.components.find((c) => c.name === 'propensity-v1')!;
    const v2 = s.components.find((c) => c.name === 'propensity-v2')!;
    assert.equal(v1.state, 'ready');
    assert.match(v1.detail ?? '', /^3 MLServer processes on one port/);
    assert.equal(v2.detail, undefined);
    // The launcher's 3 MLServers, each in a session of its own (mlserverWorkers.ts).
    const workers = await childrenOf(Number(v1.id));
    assert.equal(workers.length, 3);
    assert.equal(new Set(await Promise.all(workers.map(sessionOf))).size, 3);
  });

  // The original false breach: v1 (95%, one process) p95 252 ms and breached, v2 (5%) 33 ms and
  // not: one process carried 19 times the other's load. With 3 processes v1 carries about 6×
  // v2's load per process, so a p95 of v1 over the limit is labelled confounded (ok, with the
  // reason), never breached; within the limit it is plain ok.
  it('sample traffic through the router: v1 breaches no latency guardrail — within the limit, or confounded by its load per process', async () => {
    const sim = await cli('simulate', 'propensity', '--requests', '2000', '--rps', '30', '--json');
    assert.equal(sim.exitCode, 0, sim.stderr);
    const summary = JSON.parse(sim.stdout) as { ok: number; firstError?: string };
    assert.equal(summary.ok, 2000, summary.firstError);
    const report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
    const line = report.variants
      .map(
        (v) =>
          `${v.name}: ${v.requests} requests, p95 ${v.latencyMs.p95.toFixed(1)} ms, ${v.loadPerReplica?.toFixed(2)} req/s per process`,
      )
      .join('; ')
      .concat(` (machine load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(`      ${line}`);
    const [v1, v2] = ['v1', 'v2'].map((n) => report.variants.find((v) => v.name === n)!);
    // The control: the report divides v1's requests by its 3 processes (unsized: about 19×).
    const ratio = v1!.loadPerReplica! / v2!.loadPerReplica!;
    assert.ok(
      ratio > CONFOUNDING_LOAD_RATIO && ratio < 10,
      `v1's load per process ${ratio.toFixed(1)}× v2's: ${line}`,
    );
    const g1 = report.guardrails.find((g) => g.name === 'latencyP95Ms' && g.variant === 'v1')!;
    assert.ok(g1.ok, `v1 breaches ${g1.limit} ms: ${line}`);
    if (g1.value > g1.limit) assert.match(g1.confounded ?? '', /a matter of load, not of the model/);
    else assert.equal(g1.confounded, undefined);
  });

  it('without spec.serving every variant runs one process, and deploy says their latencies are compared at unequal load', async () => {
    const file = join(ws, 'experiments/unsized.yaml');
    const text = await readFile(join(ws, 'experiments/propensity.yaml'), 'utf8');
    await writeFile(
      file,
      text
        .replace('name: propensity\n', 'name: unsized\n')
        .replace('endpoint: propensity', 'endpoint: unsized')
        .replace(/\n\s*serving: \{ workers: \d+ \}/, '')
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
