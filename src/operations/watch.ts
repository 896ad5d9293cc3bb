/** `watch`: alerts (guardrails, SRM, drift, rollout transitions) as they happen, until cancelled. */
import { alertsOf, type Alert } from '../core/analysis/alerts';
import type { OperationOptions, Runtime } from '../runtime/runtime';

export interface WatchInput {
  experiment: string;
  intervalSeconds?: number;
}

/** Polls the report and calls `onAlert` once per new alert; rollout history from before the start is skipped. */
export async function watchAlerts(
  runtime: Runtime,
  input: WatchInput,
  onAlert: (alert: Alert) => void,
  options: OperationOptions = {},
): Promise<void> {
  const seen = new Set<string>();
  let first = true;
  const intervalMs = Math.max(0.2, input.intervalSeconds ?? 2) * 1000;
  while (!options.signal?.aborted) {
    const report = await runtime.report(input.experiment, options);
    for (const alert of alertsOf(report)) {
      if (seen.has(alert.key)) continue;
      seen.add(alert.key);
      if (first && alert.kind === 'rollout') continue;
      onAlert(alert);
    }
    first = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
