/**
 * The router process: `node dist/router.js --config <file>`. This first cut validates the
 * config and serves the V2 health endpoints; routing arrives with the router issue.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { SpecError } from '../core/spec/errors';
import { loadRouterConfig } from '../core/spec/routerConfig';

async function start(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  if (!values.config) {
    console.error('usage: router --config <file>');
    process.exit(2);
  }
  const config = await loadRouterConfig(values.config);
  const [host, port] = config.listen.split(':') as [string, string];
  const server = createServer((req, res) => {
    const live = req.url === '/v2/health/live' || req.url === '/v2/health/ready';
    res.writeHead(live ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(live ? { live: true } : { error: `no route for ${req.method} ${req.url}` }));
  });
  server.listen(Number(port), host, () => console.log(`router listening on http://${host}:${port}`));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

start().catch((err: unknown) => {
  console.error(err instanceof SpecError ? err.message : `router failed to start: ${(err as Error).message}`);
  process.exit(err instanceof SpecError ? 2 : 1);
});
