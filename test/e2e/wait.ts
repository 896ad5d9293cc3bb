// Polling for the e2e suites: the workbench, its webviews and the processes the extension starts
// change in their own time.

export async function sleep(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value other than undefined/false, or throws `message` after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  message: string,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${message} (waited ${timeoutMs} ms)${lastError != null ? `: ${String(lastError)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}
