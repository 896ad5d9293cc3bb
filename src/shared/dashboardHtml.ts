/**
 * The dashboard's HTML shell, for both hosts: the extension's webview panel and the router's
 * `/dashboard/`. Pure (no DOM): the extension host and the router import it from node.
 *
 * The page carries no data — the app asks for it (`ready`) or fetches it — so nothing from a
 * report or a model name is ever interpolated into HTML. The CSP is strict: scripts only by
 * nonce, styles and fonts only from the host's resource origin, no 'unsafe-inline' and no
 * 'unsafe-eval'. Lit (under @vscode-elements) styles its components with constructable
 * stylesheets (adoptedStyleSheets) and Chart.js sizes its canvas through the CSSOM; neither
 * is inline style in the CSP sense, so style-src needs no nonce.
 */

export interface DashboardHtmlOptions {
  /** URL of dist/webview.js (webview.asWebviewUri(...) in VS Code; "webview.js" in the router). */
  scriptUri: string;
  /** URL of dist/dashboard.css (media/dashboard.css and its parts, bundled). */
  styleUri: string;
  /** Fresh per page load: crypto.randomBytes(16).toString('base64'). */
  nonce: string;
  /** Origin of scripts, styles and fonts: webview.cspSource in VS Code, "'self'" in the router. */
  cspSource: string;
  /** 'browser' allows fetch() to the page's own origin (the router's API); 'vscode' allows no network. */
  mode: 'vscode' | 'browser';
  /** The page title (text, escaped). */
  title?: string;
}

const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML attribute value or text node. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ATTR_ESCAPES[c]!);
}

/** The Content-Security-Policy of the page. */
export function dashboardCsp(o: Pick<DashboardHtmlOptions, 'nonce' | 'cspSource' | 'mode'>): string {
  if (!/^[A-Za-z0-9+/_=-]{16,}$/.test(o.nonce))
    throw new Error('dashboardHtml: nonce must be ≥ 16 base64 characters (use crypto.randomBytes(16))');
  // A source list is tokens separated by spaces; anything that could end the directive is refused.
  if (!/^(?:'self'|[^;,\s"'<>]+)(?:\s+(?:'self'|[^;,\s"'<>]+))*$/.test(o.cspSource))
    throw new Error(
      `dashboardHtml: cspSource must be a CSP source expression, got ${JSON.stringify(o.cspSource)}`,
    );
  const directives = [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
    ...(o.mode === 'browser' ? ["connect-src 'self'"] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ];
  return directives.join('; ');
}

/** The page: CSP meta, the stylesheet, a root element and the script (by nonce). */
export function dashboardHtml(o: DashboardHtmlOptions): string {
  const csp = dashboardCsp(o);
  const title = escapeHtml(o.title ?? 'Model Canary dashboard');
  const scheme = o.mode === 'browser' ? '\n    <meta name="color-scheme" content="light dark" />' : '';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />${scheme}
    <title>${title}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${escapeHtml(o.styleUri)}" />
  </head>
  <body class="mc-mode-${o.mode}">
    <main id="app" class="mc-app" data-mode="${o.mode}" aria-live="polite">
      <p class="mc-loading">Loading the dashboard…</p>
    </main>
    <noscript>The Model Canary dashboard needs JavaScript.</noscript>
    <script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
  </body>
</html>
`;
}
