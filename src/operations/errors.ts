/**
 * The operations' typed failures. Each carries the fix in its message, and a kind the adapters
 * map: `usage` (bad input: the CLI exits 2, VS Code asks again), `failed` (exit 1, an error
 * notification with Open Logs). A cancel is the AbortSignal's own AbortError, never one of these.
 */
export type OperationErrorKind = 'usage' | 'failed';

export class OperationError extends Error {
  constructor(
    message: string,
    readonly kind: OperationErrorKind = 'failed',
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

/** Bad input: what was given, and what to give instead. */
export const usageError = (message: string): OperationError => new OperationError(message, 'usage');

/** True when `err` is a cancel (Ctrl-C, the progress notification's Cancel). */
export function isCancel(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'AbortError' || name === 'CanceledError';
}
