/**
 * Start time of the router with and without a checkpoint (#21, #20 item 2). Writes a log of
 * synthetic traffic through the router's own writer (64 MiB segments), starts the real router
 * binary on it twice and times each start from spawn to "router listening":
 * - the first start finds no checkpoint and replays every event; having replayed several
 *   segments it writes a checkpoint of what it replayed;
 * - the second restores that checkpoint and replays only the events written after it.
 * Also prints what writing the checkpoint cost: its size, and how long it held the event loop
 * (the capture, synchronous so that the state is the one at its log position, and the
 * serialisation), once per closed segment in a serving router.
 *   `node --import tsx bench/routerStart.ts [events]`
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../src/router/eventLog';
import { ROUTER_BUNDLE, ensureRouterBuilt } from '../test/harness/router';

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'mc-start-'));
const dataDir = join(dir, 'data');

async function writeLog(): Promise<void> {
  const { log } = EventLog.open(dataDir, { segmentBytes: 64 * 1024 * 1024, fsyncIntervalMs: 1000 }, () => {});
  const t0 = Date.now() - N;
  let written = 0;
  for (let i = 0; written < N; i++) {
    const id = `4f60b3a0-a70e-4c63-bef5-${String(i).padStart(12, '0')}`;
    log.append({
      type: 'request',
      id,
      ts: t0 + i,
      experiment: 'propensity',
      variant: i % 20 === 0 ? 'v2' : 'v1',
      latencyMs: 3 + (i % 17) / 10,
      status: 200,
      inputs: { age: 20 + (i % 50), tenure_months: i % 120, channel: ['web', 'app', 'email'][i % 3]! },
      outputs: { predict: i % 5 === 0 ? 1 : 0, proba: (i % 100) / 100 },
    });
    written++;
    if (i % 3 === 0 && written < N) {
      const value = i % 5 === 0 ? 1 : 0;
      log.append({
        type: 'feedback',
        id,
        ts: t0 + i + 1,
        experiment: 'propensity',
        metric: 'conversion',
        value,
      });
      written++;
    }
    if (i % 10_000 === 0) await log.flush();
  }
  await log.close();
}

/** Starts the router, stops it once it listens (and its checkpoint, if any, is written); returns its output and start time. */
function start(): Promise<{ out: string; ms: number }> {
  const config = join(dir, 'router.yaml');
  writeFileSync(
    config,
    `listen: 127.0.0.1:0
dataDir: ${dataDir}
experiments:
  - name: propensity
    endpoint: propensity
    experimentFile: ${join(process.cwd(), 'sample-models/experiments/propensity.yaml')}
    variants:
      - { name: v1, url: "http://127.0.0.1:9001", model: propensity-v1, weight: 95 }
      - { name: v2, url: "http://127.0.0.1:9002", model: propensity-v2, weight: 5 }
`,
  );
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ROUTER_BUNDLE, '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let ms = 0;
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (ms === 0 && /router listening/.test(out)) {
        ms = performance.now() - started;
        // Once its signal handlers are in place; the shutdown waits for a checkpoint being written.
        setTimeout(() => child.kill('SIGTERM'), 2000);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => resolve({ out: `${out}(exit ${code ?? signal})\n`, ms }));
  });
}

const line = (out: string, re: RegExp): string => re.exec(out)?.[0] ?? '(none)';

try {
  ensureRouterBuilt();
  await writeLog();
  const full = await start();
  const resumed = await start();
  console.log(`events: ${N}`);
  if (process.env.VERBOSE) console.log(full.out, resumed.out);
  console.log(`start without a checkpoint: ${full.ms.toFixed(0)} ms   ${line(full.out, /replayed .*/)}`);
  console.log(
    `start from a checkpoint:    ${resumed.ms.toFixed(0)} ms   ${line(resumed.out, /replayed .*/)}`,
  );
  console.log(`the checkpoint:             ${line(full.out, /checkpoint-\S+ written .*/)}`);
  if (process.env.KEEP_LOG) console.log('log kept in', dir);
} finally {
  if (!process.env.KEEP_LOG) rmSync(dir, { recursive: true, force: true });
}
