/** `dashboard` / Open Dashboard: where the experiment's dashboard is served (the router's `/dashboard/`). */
import type { Runtime } from '../runtime/runtime';
import { routerPaths } from '../shared/routerApi';

export interface DashboardLocation {
  experiment: string;
  url: string;
}

export async function dashboardLocation(
  runtime: Runtime,
  input: { experiment: string },
): Promise<DashboardLocation> {
  const base = await runtime.endpoint();
  return { experiment: input.experiment, url: `${base}${routerPaths.dashboard(input.experiment)}` };
}
