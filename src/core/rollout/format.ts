/** Numbers as the rollout's gate details and reasons show them. */

/** Three significant digits, exponent notation below 0.001, '—' when not finite. */
export function formatValue(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return Math.abs(x) >= 0.001 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}

/** An absolute lift in percentage points, with its sign. */
export function formatLift(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
}
