/** What every CLI command is, the errors that map to exit codes, and the flags many commands share. */
import { resolve } from 'node:path';
import type { parseArgs } from 'node:util';
import { OperationError } from '../operations/errors';

/** Bad arguments or invalid input files: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** True for errors that mean "bad input" (exit 2) rather than "failed" (exit 1). */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof OperationError && err.kind === 'usage');
}

export type CommandOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export interface Command {
  summary: string;
  usage: string;
  /** Longer help text printed by `--help` after the usage line. */
  help?: string;
  options: CommandOptions;
  /** Arguments go to the command as they are (no parsing, no --help of ours). */
  passthrough?: boolean;
  /**
   * The palette commands this is the CLI twin of, and the inputs it takes: input name → where it
   * comes from ('<positional>' or a --flag). A test compares them with the palette's prompts.
   */
  twin?: { palette: string[]; inputs: Record<string, string> };
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** Where the CLI's bundles are (router.js beside cli.js), and its cache. */
export interface CliContext {
  routerScript: string;
  cacheDir: string;
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

/**
 * Resolves on Ctrl-C or SIGTERM, holding the process open until then: a signal listener alone
 * does not, and a command that serves detached processes (the demo) has nothing else pending.
 */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const hold = setInterval(() => undefined, 1 << 30);
    const stop = (): void => {
      clearInterval(hold);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Progress lines on stderr (quiet under --json, so stdout stays one JSON document). */
export const progress =
  (quiet: boolean) =>
  (message: string): void => {
    if (!quiet) process.stderr.write(`  ${message}\n`);
  };

/** A port number from a flag (0, where allowed, means any free port). */
export function portFlag(raw: unknown, name = '--port', allowAnyFree = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowAnyFree ? 0 : 1) || n > 65535)
    throw new UsageError(`${name} must be a port number, got "${String(raw)}"`);
  return n;
}

/** A positive number from a flag, or undefined when absent. */
export function numberFlag(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${name} must be a number ≥ 0, got "${String(raw)}"`);
  return n;
}

export const workspaceOf = (v: Record<string, unknown>): string => resolve(String(v.workspace ?? '.'));

export const jsonOption = { json: { type: 'boolean' as const, default: false } };

/** Prints JSON, or the text the render function makes. */
export function output<T>(v: Record<string, unknown>, value: T, text: (value: T) => string): void {
  console.log(v.json ? JSON.stringify(value, null, 2) : text(value));
}
