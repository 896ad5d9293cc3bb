/** The one runner for command descriptions, on execa: cancellation, streamed lines, typed outcomes. */
import { execa } from 'execa';
import type { CommandDescription, CommandResult, RunOptions } from './command';

/** Runs a described command; never throws for tool failures, only returns them. */
export async function runCommand<T>(
  cmd: CommandDescription<T>,
  options: RunOptions = {},
): Promise<CommandResult<T>> {
  const child = execa(cmd.command, cmd.args, {
    reject: false,
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
    cwd: options.cwd,
    env: cmd.env,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  if (options.onLine) {
    const emit = lineSplitter(options.onLine);
    child.stdout?.on('data', emit);
    child.stderr?.on('data', emit);
  }
  const result = await child;
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.isCanceled) return { kind: 'canceled' };
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return { kind: 'not-found', command: cmd.command, message: `${cmd.command} was not found` };
  }
  if (result.failed) {
    const message = stderr.trim() || stdout.trim() || (result.shortMessage ?? 'failed');
    return { kind: 'failed', exitCode: result.exitCode, stdout, stderr, message };
  }
  try {
    return { kind: 'ok', value: cmd.parse(stdout, stderr), stdout, stderr };
  } catch (err) {
    return {
      kind: 'failed',
      exitCode: 0,
      stdout,
      stderr,
      message: `unexpected output from ${cmd.command}: ${(err as Error).message}`,
    };
  }
}

function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    const text = rest + chunk.toString('utf8');
    const lines = text.split(/\r?\n/);
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line);
  };
}
