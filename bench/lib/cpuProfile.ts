/**
 * A V8 `.cpuprofile` (node --cpu-prof) summarised: self time grouped by source module and by
 * function, as a share of the profile and in µs per request (or per event), a minified bundle's
 * positions (`router.js`, `cli.js`: the map's name without `.map`) mapped back to src/ through
 * its source map.
 */
import { readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The summary's lines (top `modules` modules, top `functions` functions) for `requests` requests. */
export async function summariseProfile(
  profileFile: string,
  bundleMap: string,
  requests: number,
  top = { modules: 20, functions: 40 },
  unit = 'req',
): Promise<string[]> {
  const p = JSON.parse(await readFile(profileFile, 'utf8')) as Profile;
  const map = new SourceMap(JSON.parse(await readFile(bundleMap, 'utf8')));
  const bundle = basename(bundleMap, '.map');
  const mapped = (n: ProfileNode): string | undefined => {
    if (!n.callFrame.url.endsWith(bundle)) return undefined;
    const e = map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber);
    if (!('originalSource' in e)) return undefined;
    const src = e.originalSource.replace(/^.*?(src|node_modules)\//, '$1/');
    return `${(e as { name?: string }).name ?? n.callFrame.functionName} ${src}:${e.originalLine + 1}`;
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const group = (key: (n: ProfileNode) => string): [string, number][] => {
    const m = new Map<string, number>();
    for (const [id, t] of self) {
      const k = key(byId.get(id)!);
      m.set(k, (m.get(k) ?? 0) + t);
    }
    return [...m].sort((a, b) => b[1] - a[1]);
  };
  const line = ([k, t]: [string, number]): string =>
    `  ${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / requests).toFixed(1).padStart(6)} µs/${unit}  ${k}`;
  const file = (n: ProfileNode): string =>
    mapped(n)?.replace(/^\S+ /, '').replace(/:\d+$/, '') ??
    (n.callFrame.url.replace(/^.*\//, '') || `(${n.callFrame.functionName || 'native'})`);
  const fn = (n: ProfileNode): string =>
    mapped(n) ?? `${n.callFrame.functionName || '(anonymous)'} ${file(n)}:${n.callFrame.lineNumber + 1}`;
  return [
    `self time by module (${(total / 1e6).toFixed(2)} s sampled, ${requests} ${unit === 'req' ? 'requests' : `${unit}s`}):`,
    ...group(file).slice(0, top.modules).map(line),
    '',
    `self time by function (top ${top.functions}):`,
    ...group(fn).slice(0, top.functions).map(line),
  ];
}
