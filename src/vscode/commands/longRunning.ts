/** Long work of a command: a cancellable progress; failures become notifications with actions, cancels stay silent. */
import { SpecError } from '../../core/spec/errors';
import { isCancel, withCancellableProgress } from '../progress';
import { showFailure, type CommandContext } from './context';

export async function longRunning<T>(
  ctx: CommandContext,
  title: string,
  work: (signal: AbortSignal, report: (m: string) => void) => Promise<T>,
  retry?: () => unknown,
): Promise<T | undefined> {
  try {
    return await withCancellableProgress(title, async (signal, report) =>
      work(signal, (m) => {
        ctx.log.info(m);
        report(m);
      }),
    );
  } catch (err) {
    if (isCancel(err)) {
      ctx.log.info(`${title}: canceled`);
      return undefined;
    }
    const message =
      err instanceof SpecError ? `the experiment has problems:\n${err.message}` : (err as Error).message;
    ctx.log.error(`${title}: ${message}`);
    void showFailure(ctx, message, retry);
    return undefined;
  } finally {
    void ctx.live.refresh();
  }
}

/** "the local environment" or "the environment on <context>", for titles and messages. */
export function environmentName(ctx: CommandContext): string {
  const env = ctx.environments.current;
  return env.kind === 'local' ? 'the local environment' : `the environment on ${env.context}`;
}
