/**
 * Where requests and feedback go, for the empty states of the verdict, the charts and the
 * A/B table: the router's own URLs, so the fix is one copy-paste away.
 */

/** The router the dashboard watches and the endpoint the experiment serves on. */
export interface RouterAddress {
  routerUrl?: string;
  endpoint?: string;
}

/** Where feedback goes, for the empty states. */
export function feedbackHint(experiment: string, ctx: RouterAddress = {}): string {
  const base = (ctx.routerUrl ?? '').replace(/\/+$/, '');
  return `send it to POST ${base}/api/v1/experiments/${encodeURIComponent(experiment)}/feedback or run Simulate Traffic`;
}

/** Where requests go, for the empty states. */
export function trafficHint(experiment: string, ctx: RouterAddress = {}): string {
  const base = (ctx.routerUrl ?? '').replace(/\/+$/, '');
  const endpoint = encodeURIComponent(ctx.endpoint ?? experiment);
  return `send requests to POST ${base}/v2/models/${endpoint}/infer or run Simulate Traffic`;
}
