// Drives the code-server workbench with Playwright and Debian's Chromium. The command palette and
// quick picks are in quickInput.ts, notifications in notifications.ts, polling in wait.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Frame, Locator, Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { darkTheme, E2ePrerequisiteError, lightTheme, resultsDir } from './codeServer';
import * as notifications from './notifications';
import * as quickInput from './quickInput';
import { sleep, waitFor } from './wait';

export { sleep, waitFor } from './wait';

/** What Frame.$() finds (typed without the DOM lib, which this project's tsconfig leaves out). */
export type FrameElement = NonNullable<Awaited<ReturnType<Frame['$']>>>;

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchChromium(
  executablePath = process.env.MODEL_CANARY_CHROMIUM ?? '/usr/bin/chromium',
) {
  if (!fs.existsSync(executablePath)) {
    throw new E2ePrerequisiteError(`Chromium is missing at ${executablePath}: apt-get install chromium`);
  }
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs });
}

export function screenshotPath(name: string): string {
  const safe = name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '');
  return path.join(resultsDir, `${safe}.png`);
}

export interface OpenOptions {
  /** Extra URL query parameters (e.g. `payload`). */
  query?: Record<string, string>;
  viewport?: { width: number; height: number };
  /** Wait for the workbench DOM (default true). */
  waitForWorkbench?: boolean;
}

export class Workbench {
  /** Browser console lines and page errors, for diagnostics. */
  readonly console: string[] = [];

  private constructor(
    readonly page: Page,
    readonly server: CodeServer,
  ) {
    page.on('console', (msg) => this.console.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => this.console.push(`[pageerror] ${err.message}`));
  }

  static async open(browser: Browser, server: CodeServer, opts: OpenOptions = {}): Promise<Workbench> {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 900 } });
    const page = await context.newPage();
    const wb = new Workbench(page, server);
    await page.goto(server.workbenchUrl(opts.query), { waitUntil: 'domcontentloaded' });
    if (opts.waitForWorkbench !== false) {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
      // The activity bar and status bar are there once the layout is restored.
      await page
        .locator('.part.activitybar, .part.statusbar')
        .first()
        .waitFor({ state: 'visible', timeout: 60_000 });
    }
    return wb;
  }

  async close() {
    await this.page.context().close();
  }

  async screenshot(name: string): Promise<string> {
    const file = screenshotPath(name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The activity bar entry of a view container, by its title. */
  activityBarItem(title: string): Locator {
    return this.page.locator(`.activitybar [aria-label*="${title}"]`).first();
  }

  /** Opens a view container from the activity bar (does not toggle it closed if it is open). */
  async openViewContainer(title: string) {
    const item = this.activityBarItem(title);
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    const checked = await item.getAttribute('aria-checked').catch(() => null);
    const selected = await item
      .evaluate((el) => el.closest('.action-item')?.classList.contains('checked') ?? false)
      .catch(() => false);
    if (checked !== 'true' && !selected) await item.click();
    await this.page
      .locator('.part.sidebar .pane-header')
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** A view pane (a section of the side bar) by its title as shown in its header. */
  pane(title: string): Locator {
    const header = this.page.locator('.pane-header .title', {
      hasText: new RegExp(`^\\s*${escapeRe(title)}\\s*$`, 'i'),
    });
    return this.page.locator('.part.sidebar .pane').filter({ has: header }).first();
  }

  /** Titles of the view panes visible in the side bar. */
  async paneTitles(): Promise<string[]> {
    const texts = await this.page.locator('.part.sidebar .pane-header .title').allTextContents();
    return texts.map((t) => t.trim()).filter((t) => t.length > 0);
  }

  async expandPane(title: string) {
    const pane = this.pane(title);
    await pane.waitFor({ state: 'visible', timeout: 30_000 });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  }

  /** Row labels currently rendered in a tree view. */
  async treeLabels(viewTitle: string): Promise<string[]> {
    const rows = this.pane(viewTitle).locator('.monaco-list-row');
    const labels = await rows.evaluateAll((els) =>
      els.map((el) => (el.querySelector('.label-name')?.textContent ?? el.textContent ?? '').trim()),
    );
    return labels;
  }

  /**
   * Waits until the tree view titled `viewTitle` shows an item whose label (not its description)
   * is `label` (a string matches exactly, a RegExp is tested), expanding collapsed rows along the
   * way so nested items are found, and returns that row.
   */
  async findTreeItem(viewTitle: string, label: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
    await this.expandPane(viewTitle);
    const pane = this.pane(viewTitle);
    const pattern = typeof label === 'string' ? new RegExp(`^\\s*${escapeRe(label)}\\s*$`) : label;
    const row = pane
      .locator('.monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: pattern }) })
      .first();
    const expanded = new Set<string>();
    try {
      return await waitFor(
        async () => {
          if ((await row.count()) > 0 && (await row.isVisible())) return row;
          const collapsed = pane.locator('.monaco-list-row[aria-expanded="false"]');
          const n = await collapsed.count();
          for (let i = 0; i < n; i++) {
            const r = collapsed.nth(i);
            const key = (await r.getAttribute('aria-label')) ?? String(i);
            if (expanded.has(key)) continue;
            expanded.add(key);
            await r.click();
            break;
          }
          return undefined;
        },
        `no item ${String(label)} in the "${viewTitle}" view`,
        timeoutMs,
      );
    } catch (err) {
      const now = await this.treeLabels(viewTitle).catch(() => []);
      throw new Error(`${(err as Error).message}; it shows [${now.join(', ')}]`);
    }
  }

  /** Runs a command from the palette: F1, type the title, Enter (quickInput.ts). */
  runCommand(title: string, timeoutMs?: number): Promise<void> {
    return quickInput.runCommand(this.page, title, timeoutMs);
  }

  /**
   * Runs a command and makes its picks ([label, what to say if missing]). A pick that loses the
   * focus (a webview beside it taking it) closes and the command stops before it does anything:
   * then the command and its picks once more.
   */
  async runCommandWithPicks(title: string, picks: [string, string][]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runCommand(title);
        for (const [label, notFound] of picks) await this.pickQuickInputItem(label, notFound);
        return;
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
  }

  /** Moves the focus of the open quick pick to the item labelled `label` (or one of them) and presses Enter. */
  pickQuickInputItem(label: string | string[], notFound: string, timeoutMs?: number): Promise<void> {
    return quickInput.pickQuickInputItem(this.page, label, notFound, timeoutMs);
  }

  /** Texts of the notification toasts currently shown. */
  notificationTexts(): Promise<string[]> {
    return notifications.notificationTexts(this.page);
  }

  /** The messages alone (no source, buttons or styles) of the notifications shown, toasts and center. */
  notificationMessages(): Promise<string[]> {
    return notifications.notificationMessages(this.page);
  }

  /** Waits for a notification whose text matches; looks in the notification center if the toast is gone. */
  waitForNotification(match: RegExp, timeoutMs?: number): Promise<string> {
    return notifications.waitForNotification(this.page, match, timeoutMs);
  }

  /** Dismisses every notification (toasts and the notification center), so a later wait sees only new ones. */
  clearNotifications(): Promise<void> {
    return notifications.clearNotifications(this.page);
  }

  /** The description (the dimmer text after the label) of a tree item, found as findTreeItem finds it. */
  async treeItemDescription(viewTitle: string, label: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const row = await this.findTreeItem(viewTitle, label, timeoutMs);
    return ((await row.locator('.label-description').first().textContent()) ?? '').trim();
  }

  /** Drags the sash between the side bar and the editor so that the side bar is about `width` pixels wide. */
  async setSideBarWidth(width: number) {
    const sidebar = this.page.locator('.part.sidebar').first();
    const box = await sidebar.boundingBox();
    if (box == null) return;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 10 });
    await this.page.mouse.up();
    await waitFor(
      async () => {
        const now = await sidebar.boundingBox();
        return now != null && Math.abs(now.width - width) < 24 ? true : undefined;
      },
      `the side bar did not become ${width} px wide`,
      5_000,
    );
  }

  /** Shows or hides the primary side bar (View: Toggle Primary Side Bar Visibility). */
  async setSideBarVisible(visible: boolean) {
    const sidebar = this.page.locator('.part.sidebar').first();
    if ((await sidebar.isVisible()) === visible) return;
    await this.runCommand('View: Toggle Primary Side Bar Visibility');
    await sidebar.waitFor({ state: visible ? 'visible' : 'hidden', timeout: 15_000 });
  }

  /**
   * Finds an element inside any frame of the page (webviews live in nested iframes:
   * .../webview/browser/pre/index.html -> fake.html).
   */
  async findInFrames(selector: string, timeoutMs = 30_000): Promise<{ frame: Frame; element: FrameElement }> {
    return waitFor(
      async () => {
        for (const frame of this.page.frames()) {
          if (frame === this.page.mainFrame()) continue;
          const element = await frame.$(selector).catch(() => null);
          if (element != null) return { frame, element };
        }
        return undefined;
      },
      `no element ${selector} in any webview frame (frames: ${this.page
        .frames()
        .map((f) => f.url())
        .join(', ')})`,
      timeoutMs,
    );
  }

  /** The webview frame of the dashboard of `experiment` (found again each time: webview frames come and go). */
  async dashboardFrame(experiment: string, timeoutMs = 60_000): Promise<Frame> {
    return waitFor(
      async () => {
        for (const frame of this.page.frames()) {
          if (frame === this.page.mainFrame() || frame.isDetached()) continue;
          const title = await frame
            .$eval('#app .mc-header h1', (e) => (e.textContent ?? '').trim())
            .catch(() => undefined);
          if (title === experiment) return frame;
        }
        return undefined;
      },
      `no dashboard webview for ${experiment}`,
      timeoutMs,
    );
  }

  /** Waits for a notification matching `success`; fails at once on a Model Canary failure notification. */
  waitForOutcome(success: RegExp, what: string, timeoutMs: number): Promise<string> {
    return notifications.waitForOutcome(this.page, success, what, timeoutMs);
  }

  /** The workbench's current theme kind from its CSS class: 'dark', 'light', 'hc-dark' or 'hc-light'. */
  async themeKind(): Promise<string> {
    const cls = (await this.page.locator('.monaco-workbench').first().getAttribute('class')) ?? '';
    if (/\bhc-light\b/.test(cls)) return 'hc-light';
    if (/\bhc-black\b/.test(cls)) return 'hc-dark';
    if (/\bvs-dark\b/.test(cls)) return 'dark';
    if (/\bvs\b/.test(cls)) return 'light';
    return 'unknown';
  }

  /**
   * Switches the colour theme the way a person does ("Preferences: Color Theme", pick the theme;
   * VS Code then saves it in the user settings) and waits for the workbench to repaint.
   */
  async setColorTheme(theme: string = lightTheme) {
    const want = theme === darkTheme || /dark|black/i.test(theme) ? 'dark' : 'light';
    if ((await this.themeKind()) === want) return;
    await this.runCommand('Preferences: Color Theme');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    // The picker labels themes without the "Default " of their settings id (VS Code 1.139).
    const label = theme.replace(/^Default /, '');
    await input.fill(label);
    await this.pickQuickInputItem([theme, label], `the theme picker did not offer "${theme}"`, 15_000);
    await waitFor(
      async () => ((await this.themeKind()) === want ? true : undefined),
      `the workbench did not switch to ${theme}`,
      20_000,
    );
    await sleep(300);
  }
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
