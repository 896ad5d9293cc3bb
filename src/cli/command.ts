/** What every CLI command is, and the errors that map to exit codes. */
import type { parseArgs } from 'node:util';

/** Bad arguments or invalid input files: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Command {
  summary: string;
  usage: string;
  /** Longer help text printed by `--help` after the usage line. */
  help?: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** Ctrl-C aborts the running command; a second Ctrl-C exits at once. */
export function onInterrupt(): AbortController {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller;
}
