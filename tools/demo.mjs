// `npm run demo` — the local environment (model servers, router, simulated traffic, report)
// arrives with the local-environment issue; until then this says so instead of pretending.
console.error(
  [
    'npm run demo is not available yet: the local environment (process runtime, router, traffic simulator)',
    'is still being built. What works today:',
    '  node dist/cli.js validate --workspace sample-models   # discover and validate the sample workspace',
    '  node dist/cli.js setup                                # create the MLServer Python environment',
    '  node dist/cli.js doctor                               # check what a kind cluster needs',
  ].join('\n'),
);
process.exitCode = 1;
