/**
 * The dashboard's entry point (bundled to dist/webview.js). Inside VS Code it talks to the
 * extension host; anywhere else it is the router's /dashboard/ page and talks HTTP.
 */
// Only the components the dashboard uses (each import registers one custom element).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { DashboardApp } from './app';
import { BrowserTransport } from './transportBrowser';
import { VsCodeTransport, inVsCode } from './transportVscode';
import type { Transport } from './transport';

function sessionStore(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: no token memory, no state across reloads
  }
}

const transport: Transport = inVsCode()
  ? new VsCodeTransport()
  : new BrowserTransport({
      fetch: (url, init) => fetch(url, init),
      pageUrl: location.href,
      storage: sessionStore(),
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (handle) => window.clearTimeout(handle as number | undefined),
      isHidden: () => document.hidden,
    });

const root = document.getElementById('app') ?? document.body;
document.body.classList.add(`mc-mode-${transport.mode}`);
new DashboardApp(root, transport).start();

// A hidden tab skips polls; catch up as soon as it is visible again.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) transport.send({ type: 'refresh' });
});
