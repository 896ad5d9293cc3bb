/**
 * The probes of a container that speaks the V2 health endpoints on its `http` port (MLServer and
 * the router): ready when `/v2/health/ready` answers, alive while `/v2/health/live` does, and a
 * startup probe that gives a slow start (loading a model, replaying an event log)
 * `startupFailures` × 2 s before liveness applies.
 */
export function v2HealthProbes(startupFailures: number): Record<string, unknown> {
  const get = (path: string) => ({ httpGet: { path, port: 'http' } });
  return {
    readinessProbe: { ...get('/v2/health/ready'), periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...get('/v2/health/live'), periodSeconds: 10, failureThreshold: 3 },
    startupProbe: { ...get('/v2/health/live'), periodSeconds: 2, failureThreshold: startupFailures },
  };
}
