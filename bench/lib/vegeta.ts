/**
 * vegeta (github.com/tsenart/vegeta, built by tools/install-vegeta.sh), an HTTP load generator we
 * did not write, for an open loop: requests leave at a fixed rate whether or not the earlier ones
 * have been answered (a new connection when every open one is busy), so a stall of the server
 * delays only the requests that arrive during it. autocannon's rate limit (bench/lib/load.ts) is
 * a closed loop instead: over one connection it sends the next request when the answer arrives,
 * until the second's share is sent. Each response's time comes from vegeta's own results.
 * vegeta runs with Go's garbage collector off, as ghz does (bench/lib/ghz.ts): its collections
 * took the router's core from it (unpinned, 1,000 req/s, bench/routerGrpcTail.ts --http: direct
 * p99 4.0 ms with them, 2.1 ms without; docs/performance.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/harness/tools';
import { goWithoutGc, type GhzCall } from './ghz';
import type { Run } from './load';

/** The vegeta binary's path (built once, cached under ~/.cache/model-canary/vegeta). */
export function vegetaBinary(): string {
  return execFileSync('bash', [join(REPO_ROOT, 'tools/install-vegeta.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .toString()
    .trim();
}

/**
 * POSTs `body` (JSON) to `url` at `rate` a second for `seconds`, open loop; with `details`,
 * every request's end (ms since the epoch) and latency as well, in the shape of ghz's calls.
 */
export function openLoop(
  binary: string,
  url: string,
  body: string,
  seconds: number,
  rate: number,
  how: { details?: boolean } = {},
): Run & { calls?: GhzCall[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mc-vegeta-'));
  const results = join(dir, 'results.bin');
  try {
    const target = {
      method: 'POST',
      url,
      body: Buffer.from(body).toString('base64'),
      header: { 'Content-Type': ['application/json'] },
    };
    execFileSync(
      binary,
      [
        'attack',
        '-format=json',
        `-rate=${rate}/s`,
        `-duration=${seconds}s`,
        '-keepalive=true',
        `-output=${results}`,
      ],
      { input: `${JSON.stringify(target)}\n`, env: goWithoutGc() },
    );
    // One CSV row a request: unix ns, status code, latency ns, bytes out, bytes in, error, …
    const csv = execFileSync(binary, ['encode', '--to', 'csv', results], {
      maxBuffer: 512 * 1024 * 1024,
    }).toString();
    const latencies: number[] = [];
    const calls: GhzCall[] = [];
    let total = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const row of csv.split('\n')) {
      if (!row) continue;
      const [ts, code, latency] = row.split(',', 3);
      total++;
      first = Math.min(first, Number(ts));
      last = Math.max(last, Number(ts));
      if (code === '200') latencies.push(Number(latency) / 1e6);
      if (how.details) {
        const ms = Number(latency) / 1e6;
        calls.push({ end: Number(ts) / 1e6 + ms, ms, ok: code === '200' });
      }
    }
    return {
      rps: total > 1 ? ((total - 1) * 1e9) / (last - first) : total,
      total,
      failed: total - latencies.length,
      latencies: Float64Array.from(latencies).sort(),
      cpuSeconds: 0,
      ...(how.details ? { calls } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
