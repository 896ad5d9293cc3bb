// What the router integration suites share: the admin token their configs carry, the header that
// presents it, and a poll for a state the router reaches on its own (a config reload).

export const TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${TOKEN}` };

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
