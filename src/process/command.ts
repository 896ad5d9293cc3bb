/**
 * "Describe, then run": a tool invocation is a plain value (binary, argument array, parser)
 * that tests can assert on; one runner executes it. Argument arrays only, never shell strings.
 */

/** A command to run and how to read its output. */
export interface CommandDescription<T> {
  /** The binary, as configured or found on PATH. */
  command: string;
  args: string[];
  /** Turns the finished command's output into a value; called only when it exits 0. */
  parse: (stdout: string, stderr: string) => T;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** How a command ended. A cancel is its own case so callers never show it as an error. */
export type CommandResult<T> =
  | { kind: 'ok'; value: T; stdout: string; stderr: string }
  | { kind: 'not-found'; command: string; message: string }
  | { kind: 'failed'; exitCode: number | undefined; stdout: string; stderr: string; message: string }
  | { kind: 'canceled' };

export interface RunOptions {
  signal?: AbortSignal;
  /** Each line the command prints (stdout and stderr), as it prints it: progress for the user. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
  cwd?: string;
}

/** Executes command descriptions. */
export type CommandRunner = <T>(
  cmd: CommandDescription<T>,
  options?: RunOptions,
) => Promise<CommandResult<T>>;

/** The user canceled; callers let it pass silently. */
export class CanceledError extends Error {
  constructor() {
    super('canceled');
    this.name = 'CanceledError';
  }
}
