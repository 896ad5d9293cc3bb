/**
 * Drift injected into replayed traffic from a chosen point on, to see the detectors react:
 *   FEATURE=shift:+30        add to a numeric feature
 *   FEATURE=scale:1.5        multiply a numeric feature
 *   FEATURE=mix:web=0.7,app=0.3   redraw a categorical feature from this mix
 */

export type DriftSpec =
  | { feature: string; kind: 'shift'; amount: number }
  | { feature: string; kind: 'scale'; factor: number }
  | { feature: string; kind: 'mix'; weights: [string, number][] };

/** Parses `FEATURE=SPEC`; throws an Error saying what is expected. */
export function parseDriftSpec(text: string): DriftSpec {
  const eq = text.indexOf('=');
  const feature = text.slice(0, eq).trim();
  const spec = text.slice(eq + 1).trim();
  const usage = `expected FEATURE=shift:+N, FEATURE=scale:F or FEATURE=mix:a=0.7,b=0.3 — got "${text}"`;
  if (eq <= 0 || !spec) throw new Error(usage);
  const [kind, arg = ''] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)];
  if (kind === 'shift' || kind === 'scale') {
    const n = Number(arg);
    if (!Number.isFinite(n)) throw new Error(usage);
    return kind === 'shift' ? { feature, kind, amount: n } : { feature, kind, factor: n };
  }
  if (kind === 'mix') {
    const weights = arg.split(',').map((part): [string, number] => {
      const [cat, w] = part.split('=');
      const weight = Number(w);
      if (!cat || !Number.isFinite(weight) || weight < 0) throw new Error(usage);
      return [cat.trim(), weight];
    });
    if (weights.reduce((s, [, w]) => s + w, 0) <= 0) throw new Error(usage);
    return { feature, kind, weights };
  }
  throw new Error(usage);
}

/** Applies the drift to one row (a copy); integer columns stay integers. */
export function applyDrift(
  row: Record<string, string | number>,
  spec: DriftSpec,
  random: () => number,
): Record<string, string | number> {
  const value = row[spec.feature];
  if (value === undefined) return row;
  const out = { ...row };
  if (spec.kind === 'mix') {
    const total = spec.weights.reduce((s, [, w]) => s + w, 0);
    let u = random() * total;
    for (const [cat, w] of spec.weights) {
      u -= w;
      if (u < 0) {
        out[spec.feature] = cat;
        break;
      }
    }
    return out;
  }
  if (typeof value !== 'number')
    throw new Error(`cannot ${spec.kind} the categorical feature ${spec.feature}; use mix:`);
  const next = spec.kind === 'shift' ? value + spec.amount : value * spec.factor;
  out[spec.feature] = Number.isInteger(value) ? Math.round(next) : Math.round(next * 100) / 100;
  return out;
}
