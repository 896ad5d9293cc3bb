/**
 * The router's memory is bounded by its configuration, not by its traffic (issue #20): RSS at
 * rest, then after each batch of requests (1 kB bodies, every request sampled for drift, each
 * with its own request id), with the request-id memory (`eventLog.idCacheSize`) set below the
 * total so the bound is reached during the run. Past the bound, RSS should stay flat; the
 * figure guarded is RSS after the last batch ÷ RSS after the batch that filled the id memory.
 *
 *   node --import tsx bench/routerMemory.ts [--batches 5] [--batch 200000] [--ids 200000]
 * (10^6 requests by default; `--quick`: 4 × 25,000)
 */
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kilobyteBody } from './lib/bodies';
import { quick, record } from './lib/figures';
import { numberArg } from './lib/args';
import { startProcess } from './lib/load';
import { startSplitRouter } from './lib/splitRouter';

const BATCHES = numberArg('--batches', quick ? 4 : 5);
const BATCH = numberArg('--batch', quick ? 25_000 : 200_000);
const IDS = numberArg('--ids', BATCH);

// autocannon ships no types and is CommonJS.
const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: Record<string, unknown>,
  cb: (err: Error | null, r: { requests: { total: number }; non2xx: number; errors: number }) => void,
) => unknown;

/** Resident set size of a process, MB (VmRSS in /proc/<pid>/status). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function send(url: string, amount: number): Promise<{ total: number; failed: number }> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        body: kilobyteBody(),
        headers: { 'content-type': 'application/json' },
        connections: 32,
        amount,
      },
      (err, r) => (err ? reject(err) : resolve({ total: r.requests.total, failed: r.non2xx + r.errors })),
    );
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-memory-'));
  const upstream = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  try {
    const router = await startSplitRouter(dir, upstream.address, 1, {
      config: { eventLog: { idCacheSize: IDS } },
    });
    const pid = router.proc.pid!;
    const url = `${router.url}/v2/models/propensity/infer`;
    await send(url, 2_000);
    const atRest = rssMb(pid);
    console.log(
      `eventLog.idCacheSize ${IDS}; ${BATCHES} batches of ${BATCH} requests; Node ${process.version}`,
    );
    console.log(`RSS at rest (after a 2k-request warm-up): ${atRest.toFixed(0)} MB`);
    const after: number[] = [];
    let sent = 0;
    for (let b = 0; b < BATCHES; b++) {
      const r = await send(url, BATCH);
      sent += r.total;
      after.push(rssMb(pid));
      console.log(
        `RSS after ${sent.toLocaleString('en-US')} requests: ${after.at(-1)!.toFixed(0)} MB (${r.failed} failed)`,
      );
    }
    await router.stop();
    // The batch that filled the id memory, and the last one: past the bound, traffic adds nothing.
    const filled = after[Math.min(after.length - 1, Math.ceil(IDS / BATCH) - 1)]!;
    const growth = after.at(-1)! / filled;
    console.log(`RSS growth past the id memory's bound: ${growth.toFixed(2)}× (flat is 1.00×)`);
    record({
      id: 'routerMemory.rssAtRest',
      label: 'router RSS at rest',
      value: atRest,
      unit: 'MB',
      better: 'lower',
      ratio: false,
    });
    record({
      id: 'routerMemory.rssAfter',
      label: `router RSS after ${sent.toLocaleString('en-US')} requests`,
      value: after.at(-1)!,
      unit: 'MB',
      better: 'lower',
      ratio: false,
    });
    record({
      id: 'routerMemory.growthPastBound',
      label: 'router RSS growth once the id memory is full',
      value: growth,
      unit: '×',
      better: 'lower',
      ratio: true,
    });
  } finally {
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
