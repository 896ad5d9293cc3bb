/**
 * A bench-only probe preloaded into the router (`node --import ./bench/lib/routerProbe.mjs
 * dist/router.js`, bench/routerGrpcTail.ts): nothing of it is in the router's bundle, so it costs
 * production nothing. It records, on the wall clock (ms since the epoch, as ghz's call times):
 *
 * - `gc`: every GC pause (PerformanceObserver 'gc': start, duration, kind);
 * - `stalls`: the event loop late by more than STALL_MS, seen by a 1 ms interval timer, with how
 *   much of the gap the main thread spent waiting for a core (its run-queue delay from
 *   /proc/thread-self/schedstat, read at every tick: preemption by other processes) and how much
 *   it ran (JavaScript, GC, syscalls);
 * - `writes`: the event log's synchronous write(2)s over WRITE_MS and every fdatasync (start,
 *   duration), patched onto `node:fs` before the bundle loads;
 * - `eld`: `perf_hooks.monitorEventLoopDelay` percentiles (ms).
 *
 * The probe's own cost is about 1,000 timer callbacks and schedstat reads a second. On exit it
 * writes JSON to `MODEL_CANARY_PROBE_OUT`. With `MODEL_CANARY_PROBE_HEAP` (a file), V8's sampling
 * heap profiler runs too, keeping the samples a mark-compact collected but not those a scavenge
 * did: what it writes there is where the objects that outlived the young generation (the
 * scavenges' survivors) were allocated; with `MODEL_CANARY_PROBE_HEAP_ALL` set as well, every
 * allocation's.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setInterval } from 'node:timers';

const STALL_MS = 2;
const WRITE_MS = 0.5;
const out = process.env.MODEL_CANARY_PROBE_OUT;
const origin = performance.timeOrigin;
const wall = () => origin + performance.now();

const gc = [];
const stalls = [];
const writes = [];

new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    gc.push({ at: origin + e.startTime, ms: e.duration, kind: e.detail?.kind ?? e.kind });
}).observe({ entryTypes: ['gc'] });

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();

// The main thread's schedstat: ns on a CPU, ns waiting on a run queue, time slices.
let schedFd = -1;
try {
  schedFd = fs.openSync('/proc/thread-self/schedstat', 'r');
} catch {
  // no schedstat (not Linux, or no CONFIG_SCHED_INFO): stalls are recorded without the split
}
const schedBuf = Buffer.alloc(128);
const sched = () => {
  if (schedFd < 0) return [0, 0];
  const n = fs.readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ');
  return [Number(run) / 1e6, Number(wait) / 1e6];
};

let last = performance.now();
let [lastRun, lastWait] = sched();
const tick = setInterval(() => {
  const now = performance.now();
  const [run, wait] = sched();
  const gap = now - last - 1;
  if (gap > STALL_MS)
    stalls.push({ at: origin + last, ms: gap, waitMs: wait - lastWait, runMs: run - lastRun });
  last = now;
  lastRun = run;
  lastWait = wait;
}, 1);
tick.unref();

const writeSync = fs.writeSync;
fs.writeSync = function (...args) {
  const t = performance.now();
  try {
    return writeSync.apply(this, args);
  } finally {
    const ms = performance.now() - t;
    if (ms > WRITE_MS) writes.push({ at: origin + t, ms, what: 'write' });
  }
};
const fdatasync = fs.fdatasync;
fs.fdatasync = function (fd, cb) {
  const t = performance.now();
  return fdatasync.call(this, fd, (err) => {
    writes.push({ at: origin + t, ms: performance.now() - t, what: 'fdatasync' });
    cb(err);
  });
};

const heapOut = process.env.MODEL_CANARY_PROBE_HEAP;
let heap;
if (heapOut) {
  heap = new Session();
  heap.connect();
  heap.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: Boolean(process.env.MODEL_CANARY_PROBE_HEAP_ALL),
  });
}

process.on('exit', () => {
  // The inspector answers synchronously in the same thread.
  heap?.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) fs.writeFileSync(heapOut, JSON.stringify(r.profile));
  });
  if (!out) return;
  const q = (p) => eld.percentile(p) / 1e6;
  fs.writeFileSync(
    out,
    JSON.stringify({
      end: wall(),
      eld: { p50: q(50), p99: q(99), p999: q(99.9), max: eld.max / 1e6, mean: eld.mean / 1e6 },
      gc,
      stalls,
      writes,
    }),
  );
});
