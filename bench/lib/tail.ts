/**
 * The analysis behind bench/routerGrpcTail.ts: which of the router's pauses (bench/lib/routerProbe.mjs)
 * the slowest calls of a ghz run overlap, and the router's GC as `--trace-gc-nvp` prints it.
 */
import type { GhzCall } from './ghz';

/** What bench/lib/routerProbe.mjs writes; times are ms since the epoch. */
export interface Probe {
  end: number;
  eld: { p50: number; p99: number; p999: number; max: number; mean: number };
  gc: { at: number; ms: number; kind: number }[];
  stalls: { at: number; ms: number; waitMs: number; runMs: number }[];
  writes: { at: number; ms: number; what: 'write' | 'fdatasync' }[];
}

export interface Span {
  at: number;
  ms: number;
}

const overlaps = (a: Span, b: Span): boolean => a.at < b.at + b.ms && b.at < a.at + a.ms;
const start = (c: GhzCall): number => c.end - c.ms;

export const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** The probe's records inside [from, to]. */
export function window(p: Probe, from: number, to: number): Probe {
  const inside = (x: Span): boolean => x.at + x.ms >= from && x.at <= to;
  return { ...p, gc: p.gc.filter(inside), stalls: p.stalls.filter(inside), writes: p.writes.filter(inside) };
}

/** V8's GC kinds (PerformanceObserver `detail.kind`). */
const KIND: Record<number, string> = {
  1: 'scavenge',
  2: 'mark-compact',
  4: 'incremental',
  8: 'weak callbacks',
};

const ms = (x: number): string => x.toFixed(2);

/** One line per GC kind: count, total, median and longest pause. */
export function gcLines(p: Probe, seconds: number): string[] {
  const kinds = [...new Set(p.gc.map((g) => g.kind))].sort();
  return kinds.map((k) => {
    const d = p.gc.filter((g) => g.kind === k).map((g) => g.ms);
    const sum = d.reduce((a, b) => a + b, 0);
    return `  GC ${KIND[k] ?? k}: ${d.length} pauses (${(d.length / seconds).toFixed(1)}/s), ${ms(sum)} ms in all, median ${ms(quantile(d, 0.5))}, max ${ms(Math.max(...d))} ms`;
  });
}

/** The loop's stalls by length, and how much of them the main thread waited for a core. */
export function stallLines(p: Probe): string[] {
  const over = (t: number) => p.stalls.filter((s) => s.ms > t);
  const wait = p.stalls.reduce((a, s) => a + s.waitMs, 0);
  const ran = p.stalls.reduce((a, s) => a + s.runMs, 0);
  const all = p.stalls.reduce((a, s) => a + s.ms, 0);
  const share = (x: number): string => `${((100 * x) / Math.max(all, 1e-9)).toFixed(0)}%`;
  const longest = p.stalls.reduce((a, s) => (s.ms > (a?.ms ?? 0) ? s : a), p.stalls[0]);
  const writes = p.writes.filter((w) => w.what === 'write').map((w) => w.ms);
  const syncs = p.writes.filter((w) => w.what === 'fdatasync').map((w) => w.ms);
  return [
    `  event loop delay (monitorEventLoopDelay, whole run): p50 ${ms(p.eld.p50)}, p99 ${ms(p.eld.p99)}, p99.9 ${ms(p.eld.p999)}, max ${ms(p.eld.max)} ms`,
    `  loop stalls > 2 ms: ${over(2).length}, > 5 ms: ${over(5).length}, > 10 ms: ${over(10).length}; of their ${ms(all)} ms the main thread waited for a core ${share(wait)}, ran ${share(ran)}, neither (blocked in the kernel) ${share(Math.max(0, all - wait - ran))}; the longest ${ms(longest?.ms ?? 0)} ms (waited ${ms(longest?.waitMs ?? 0)}, ran ${ms(longest?.runMs ?? 0)})`,
    `  event log: ${writes.length} write(2)s over 0.5 ms (max ${ms(Math.max(0, ...writes))}), ${syncs.length} fdatasyncs (median ${ms(quantile(syncs, 0.5))}, max ${ms(Math.max(0, ...syncs))} ms, on the thread pool)`,
  ];
}

/** What the slowest 1% of calls overlap: a GC pause ≥ 1 ms, a stall (waiting for a core or running), a slow write. */
export function slowCallLines(calls: readonly GhzCall[], p: Probe | undefined): string[] {
  const ok = calls.filter((c) => c.ok);
  const cut = quantile(
    ok.map((c) => c.ms),
    0.99,
  );
  const slow = ok.filter((c) => c.ms >= cut);
  const starts = ok.map(start).sort((a, b) => a - b);
  // ghz's own bursts: how many calls started within 1 ms of a slow one (1,000 req/s: ~2 on a steady schedule).
  const near = (t: number): number => upper(starts, t + 1) - upper(starts, t - 1);
  const burst = quantile(
    slow.map((c) => near(start(c))),
    0.5,
  );
  const lines = [
    `  slowest 1%: ${slow.length} calls ≥ ${ms(cut)} ms; calls started within ±1 ms of each: median ${burst} (all calls: ${quantile(
      ok.map((c) => near(start(c))),
      0.5,
    )})`,
  ];
  if (!p) return lines;
  const span = (c: GhzCall): Span => ({ at: start(c), ms: c.ms });
  const share = (pred: (s: Span) => boolean): string =>
    `${((100 * slow.filter((c) => pred(span(c))).length) / Math.max(1, slow.length)).toFixed(0)}%`;
  const gc = p.gc.filter((g) => g.ms >= 1);
  const waited = p.stalls.filter((s) => s.waitMs >= s.ms / 2);
  const busy = p.stalls.filter((s) => s.waitMs < s.ms / 2);
  const writes = p.writes.filter((w) => w.what === 'write' && w.ms >= 1);
  const syncs = p.writes.filter((w) => w.what === 'fdatasync');
  const any = (xs: Span[]) => (s: Span) => xs.some((x) => overlaps(s, x));
  lines.push(
    `  of them, overlapping: a GC pause ≥ 1 ms ${share(any(gc))}, a loop stall > 2 ms ${share(any(p.stalls))} (mostly waiting for a core ${share(any(waited))}, mostly running ${share(any(busy))}), a write(2) ≥ 1 ms ${share(any(writes))}, an fdatasync ${share(any(syncs))}; none of these ${share((s) => ![gc, p.stalls, writes].some((xs) => any(xs)(s)))}`,
  );
  return lines;
}

/** Index of the first element > x in sorted `xs`. */
function upper(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `--trace-gc-nvp` scavenges: count, median pause, median bytes promoted and surviving in the
 * young generation, and the bytes allocated per call (every collection's `allocated`, over `calls`:
 * the router's calls since it started, warm-up included).
 */
export function traceGcLines(output: string, calls: number): string[] {
  const scav = [...output.matchAll(/pause=([\d.]+) .*?gc=s .*?promoted=(\d+) new_space_survived=(\d+)/g)];
  const marks = [...output.matchAll(/pause=([\d.]+) .*?gc=mc /g)];
  if (scav.length === 0) return ['  --trace-gc-nvp: no scavenge lines'];
  const col = (i: number) => scav.map((m) => Number(m[i]));
  const kb = (x: number): string => `${(x / 1024).toFixed(0)} KB`;
  const allocated = [...output.matchAll(/ allocated=(\d+) /g)].reduce((n, m) => n + Number(m[1]), 0);
  return [
    `  allocated per call (all collections' \`allocated\` over ${calls} calls, start-up included): ${kb(allocated / Math.max(1, calls))}`,
    `  --trace-gc-nvp (warm-up included): ${scav.length} scavenges, pause median ${ms(quantile(col(1), 0.5))} ms, promoted median ${kb(quantile(col(2), 0.5))}, survived in the young generation median ${kb(quantile(col(3), 0.5))}; ${marks.length} mark-compacts, pause max ${ms(Math.max(0, ...marks.map((m) => Number(m[1]))))} ms`,
  ];
}
