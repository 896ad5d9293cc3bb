// Notification toasts and the notification center of the code-server workbench: what they say,
// waiting for an outcome, clearing them.
import type { Page } from 'playwright-core';
import { runCommand } from './quickInput';
import { sleep, waitFor } from './wait';

/** Texts of the notification toasts currently shown. */
export async function notificationTexts(page: Page): Promise<string[]> {
  const texts = await page
    .locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')
    .allTextContents();
  return texts.map((t) => t.trim()).filter((t) => t.length > 0);
}

/** The messages alone (no source, buttons or styles) of the notifications shown, toasts and center. */
export async function notificationMessages(page: Page): Promise<string[]> {
  const texts = await page
    .locator(
      '.notifications-toasts .notification-toast .notification-list-item-message, ' +
        '.notifications-center .notification-list-item .notification-list-item-message',
    )
    .allTextContents();
  return texts.map((t) => t.trim()).filter((t) => t.length > 0);
}

/** Waits for a notification whose text matches; looks in the notification center if the toast is gone. */
export async function waitForNotification(page: Page, match: RegExp, timeoutMs = 30_000): Promise<string> {
  try {
    return await waitFor(
      async () => (await notificationTexts(page)).find((t) => match.test(t)),
      `no notification matching ${String(match)}`,
      timeoutMs,
    );
  } catch (err) {
    await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
    const found = (await notificationTexts(page)).find((t) => match.test(t));
    if (found != null) return found;
    throw new Error(
      `${(err as Error).message}; notifications: ${JSON.stringify(await notificationTexts(page))}`,
    );
  }
}

/** Dismisses every notification (toasts and the notification center), so a later wait sees only new ones. */
export async function clearNotifications(page: Page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await waitFor(
    async () => ((await notificationTexts(page)).length === 0 ? true : undefined),
    'the notifications did not clear',
    10_000,
  ).catch(() => undefined);
  await page.keyboard.press('Escape');
}

/**
 * Waits for a notification matching `success`; fails at once on a Model Canary failure
 * notification (they offer "Open Logs"; successes never do). A toast that came and went between
 * two looks is found in the notification center.
 */
export async function waitForOutcome(
  page: Page,
  success: RegExp,
  what: string,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  for (;;) {
    seen = await notificationTexts(page).catch(() => seen);
    const messages = await notificationMessages(page).catch(() => []);
    const ok = messages.find((t) => success.test(t));
    if (ok != null) return ok;
    const failed = seen.find((t) => /Model Canary/.test(t) && /Open Logs/.test(t));
    if (failed != null)
      throw new Error(`${what} failed: ${messages.find((m) => failed.includes(m)) ?? failed}`);
    if (Date.now() > deadline) {
      await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
      const kept = (await notificationMessages(page)).find((t) => success.test(t));
      await page.keyboard.press('Escape');
      if (kept != null) return kept;
      throw new Error(`${what}: no notification matching ${String(success)}; shown: ${JSON.stringify(seen)}`);
    }
    await sleep(500);
  }
}
