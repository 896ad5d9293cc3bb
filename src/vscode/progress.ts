/** The edge where VS Code's cancellation becomes the core's AbortSignal, and long work gets a progress UI. */
import * as vscode from 'vscode';

/** An AbortSignal that aborts when the token is cancelled. */
export function toAbortSignal(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

/** Runs work under a cancellable notification progress; `report` shows the latest line. */
export function withCancellableProgress<T>(
  title: string,
  work: (signal: AbortSignal, report: (message: string) => void) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) => work(toAbortSignal(token), (message) => progress.report({ message })),
  );
}

/** True for errors that mean "the user cancelled": never shown as failures. */
export function isCancel(err: unknown): boolean {
  return err instanceof Error && (err.name === 'CanceledError' || err.name === 'AbortError');
}
