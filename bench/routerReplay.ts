/**
 * Replay speed of the router's event log. Writes a log of synthetic traffic through the
 * router's own writer (requests with sampled features and outputs, feedback for a third of
 * them), then starts the real router binary on it and reads the rate it reports on start —
 * every event replayed into the report builder and the request index. Beside it, in the same
 * run, a bare pass over the same segments (read, split, JSON.parse each line, nothing else):
 * the ceiling one thread reaches on this machine before any aggregate.
 * Target (#20): ≥ 1,000,000 events/s.  `node --import tsx bench/routerReplay.ts [events] [--cpu-prof]`
 * It also prints the CPU time of the router's whole start (the replay, loading, the checkpoint it
 * writes), which other load disturbs less than the rate, a wall time.
 * With `--cpu-prof` the router runs under V8's profiler; the replay's self time is summarised
 * (bench/lib/cpuProfile.ts) into bench/profiles/replay-<events>.txt.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLines } from '../src/core/log/lineReader';
import { EventLog } from '../src/router/eventLog';
import type { ExperimentEvent } from '../src/shared/events';
import { ROUTER_BUNDLE, ensureRouterBuilt } from '../test/harness/router';
import { REPO_ROOT } from '../test/harness/tools';
import { summariseProfile } from './lib/cpuProfile';
import { record } from './lib/figures';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const PROFILE = process.argv.includes('--cpu-prof');
const profiles = join(REPO_ROOT, 'bench/profiles');
const dir = mkdtempSync(join(tmpdir(), 'mc-replay-'));
const dataDir = join(dir, 'data');

async function writeLog(): Promise<void> {
  const { log } = EventLog.open(
    dataDir,
    { segmentBytes: 64 * 1024 * 1024, fsyncIntervalMs: 1000 },
    () => undefined,
  );
  const channels = ['web', 'app', 'email', 'store'];
  const t0 = Date.now() - N;
  let written = 0;
  for (let i = 0; written < N; i++) {
    const id = `4f60b3a0-a70e-4c63-bef5-${String(i).padStart(12, '0')}`;
    const events: ExperimentEvent[] = [
      {
        type: 'request',
        id,
        ts: t0 + i,
        experiment: 'propensity',
        variant: i % 20 === 0 ? 'v2' : 'v1',
        latencyMs: 3 + (i % 17) / 10,
        status: 200,
        inputs: {
          age: 20 + (i % 50),
          tenure_months: i % 120,
          sessions_30d: i % 30,
          basket_value: (i % 9000) / 100,
          channel: channels[i % 4]!,
          region: 'east',
        },
        outputs: { predict: i % 5 === 0 ? 1 : 0, proba: (i % 100) / 100 },
      },
    ];
    if (i % 3 === 0)
      events.push({
        type: 'feedback',
        id,
        ts: t0 + i + 1,
        experiment: 'propensity',
        metric: 'conversion',
        value: i % 5 === 0 ? 1 : 0,
      });
    for (const e of events) log.append(e);
    written += events.length;
    if (i % 10_000 === 0) await log.flush();
  }
  await log.close();
}

function replayLine(mirror: boolean): Promise<string> {
  const config = join(dir, `router-${mirror}.yaml`);
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
${mirror ? '    mirror: { variant: v3, url: "http://127.0.0.1:9003", model: propensity-v3 }\n' : ''}`,
  );
  // A full replay each time: without the checkpoint a start writes (bench/routerStart.ts times both).
  for (const f of readdirSync(dataDir)) if (/^checkpoint-/.test(f)) rmSync(join(dataDir, f));
  return new Promise((resolve, reject) => {
    const profiling = PROFILE && !mirror ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [];
    const child = spawn(process.execPath, [...profiling, ROUTER_BUNDLE, '--config', config], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let stopping = false;
    let startCpu = NaN;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      // Once: a second SIGTERM makes the router exit without waiting. Under the profiler, a
      // moment later: its SIGTERM handler is installed just after it logs that it listens, and
      // killed before that it writes no profile.
      if (!stopping && /router listening/.test(out)) {
        stopping = true;
        startCpu = cpuSeconds(child.pid);
        setTimeout(() => child.kill('SIGTERM'), profiling.length ? 500 : 0);
      }
    });
    child.once('exit', () => {
      const line = /replayed .*/.exec(out)?.[0];
      if (line) resolve(`${line}; the start took ${startCpu.toFixed(2)} s of CPU`);
      else reject(new Error(`no replay line in:\n${out}`));
    });
  });
}

/**
 * User + system CPU seconds a process has used (Linux: /proc/<pid>/stat, in clock ticks of
 * 1/100 s): the router's start, which other load on the machine disturbs less than its wall time.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Events per second of a bare read + JSON.parse of every segment, the best of three passes. */
async function bareRate(): Promise<number> {
  const segments = readdirSync(dataDir)
    .filter((f) => /^events-\d+\.jsonl$/.test(f))
    .map((f) => join(dataDir, f));
  let best = 0;
  for (let pass = 0; pass < 3; pass++) {
    let lines = 0;
    const t0 = performance.now();
    for (const file of segments)
      await readLines(file, (line) => {
        if (JSON.parse(line)) lines++;
      });
    best = Math.max(best, lines / ((performance.now() - t0) / 1000));
  }
  return best;
}

/** The profile the router just wrote, summarised (it covers the start: the replay and the rest). */
async function summarise(before: Set<unknown>, line: string): Promise<void> {
  const written = (await readdir(profiles)).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
  if (written.length === 0) throw new Error('the router wrote no profile (did it exit cleanly?)');
  const profile = join(profiles, written.sort().at(-1)!);
  const summary = await summariseProfile(profile, `${ROUTER_BUNDLE}.map`, N, undefined, 'event');
  const text = [`${profile} (${ROUTER_BUNDLE}: ${line})`, ...summary].join('\n');
  await writeFile(join(profiles, `replay-${N}.txt`), text + '\n');
  console.log(text);
}

try {
  if (PROFILE) await mkdir(profiles, { recursive: true });
  ensureRouterBuilt();
  await writeLog();
  const bare = await bareRate();
  console.log(
    `bare read + JSON.parse of the same segments: ${Math.round(bare)} events/s (one thread, best of 3)`,
  );
  record({
    id: 'routerReplay.bareEventsPerSecond',
    label: 'bare read + JSON.parse of the replayed log',
    value: bare,
    unit: 'events/s',
    better: 'higher',
    ratio: false,
  });
  // Each start appends one weights event, so the second run replays one more.
  for (const mirror of [false, true]) {
    const before = PROFILE ? new Set(await readdir(profiles)) : new Set();
    const line = await replayLine(mirror);
    if (PROFILE && !mirror) await summarise(before, line);
    console.log(
      `${mirror ? 'with a mirror:   ' : 'without a mirror:'} ${line}   (target ≥ 1,000,000 events/s)`,
    );
    record({
      id: `routerReplay.eventsPerSecond${mirror ? 'Mirror' : ''}`,
      label: `router replay on start${mirror ? ', with a mirror' : ''}`,
      value: Number(/— (\d+) events\/s/.exec(line)?.[1]),
      unit: 'events/s',
      better: 'higher',
      ratio: false,
      target: 1_000_000,
    });
    if (!mirror) {
      const rate = Number(/— (\d+) events\/s/.exec(line)?.[1]);
      console.log(`replay ÷ bare parse, in events/s: ${(rate / bare).toFixed(2)}×`);
      record({
        id: 'routerReplay.vsBare',
        label: 'router replay ÷ a bare read + JSON.parse, in events/s',
        value: rate / bare,
        unit: '×',
        better: 'higher',
        ratio: true,
      });
    }
  }
  if (process.env.KEEP_LOG) console.log('log kept in', dir);
} finally {
  if (!process.env.KEEP_LOG) rmSync(dir, { recursive: true, force: true });
}
