// The command palette and quick picks of the code-server workbench, driven by the keyboard.
import type { Locator, Page } from 'playwright-core';
import { waitFor } from './wait';

/**
 * Runs a command from the palette: F1, type the title, Enter. When the exact title is not the
 * first suggestion (recently used or fuzzier matches can come first), arrows down to it first.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 60_000) {
  const input = page.locator('.quick-input-widget input');
  const deadline = Date.now() + timeoutMs;
  // The palette lists the commands known when it opens: while extensions are still being
  // registered (right after the workbench opened) it may have to be opened again.
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(`>${title}`);
    const last = Date.now() + 5_000 >= deadline;
    try {
      await pickQuickInputItem(
        page,
        title,
        `the command palette did not offer "${title}"`,
        last ? Math.max(1_000, deadline - Date.now()) : 5_000,
      );
      break;
    } catch (err) {
      if (last) throw err;
    }
  }
  await input.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

/** Moves the focus of the open quick pick to the item labelled `label` (or one of them) and presses Enter. */
export async function pickQuickInputItem(
  page: Page,
  label: string | string[],
  notFound: string,
  timeoutMs = 20_000,
) {
  const wanted = (Array.isArray(label) ? label : [label]).map((l) => l.trim().toLowerCase());
  let want = wanted[0] ?? '';
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const labelOf = async (row: Locator) =>
    (
      (await row
        .locator('.label-name')
        .first()
        .textContent()
        .catch(() => null)) ?? ''
    )
      .trim()
      .toLowerCase();
  const index = await waitFor(
    async () => {
      const labels = await rows.evaluateAll((els) =>
        els.map((el) => (el.querySelector('.label-name')?.textContent ?? '').trim().toLowerCase()),
      );
      for (const w of wanted) {
        const i = labels.indexOf(w);
        if (i >= 0) {
          want = w;
          return i;
        }
      }
      return undefined;
    },
    notFound,
    timeoutMs,
  );
  const input = page.locator('.quick-input-widget input');
  for (let step = 0; step <= index + 20; step++) {
    const focused = page.locator('.quick-input-list .monaco-list-row.focused').first();
    if ((await focused.count()) > 0 && (await labelOf(focused)) === want) {
      await page.keyboard.press('Enter');
      return;
    }
    // The keys go to the pick's input: a webview that took the focus (the dashboard, as it
    // renders new data) would swallow them, and the focus in the list would not move.
    await input.focus().catch(() => undefined);
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`${notFound}: could not move the focus to it`);
}
