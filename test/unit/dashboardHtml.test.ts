import assert from 'node:assert/strict';
import { dashboardCsp, dashboardHtml } from '../../src/shared/dashboardHtml';

const nonce = 'q83vEjHw5cX1Qk0wV0hQmA==';

function csp(html: string): Map<string, string[]> {
  const content = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  assert.ok(content, 'the page has a CSP meta tag');
  const decoded = content.replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return new Map(
    decoded.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe('dashboard HTML shell and its CSP', () => {
  const vscode = dashboardHtml({
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.css',
    nonce,
    cspSource: 'https://*.vscode-cdn.net',
    mode: 'vscode',
  });
  const browser = dashboardHtml({
    scriptUri: 'webview.js',
    styleUri: 'dashboard.css',
    nonce,
    cspSource: "'self'",
    mode: 'browser',
  });

  it('allows scripts only by nonce, and the script carries it', () => {
    for (const html of [vscode, browser]) {
      const p = csp(html);
      assert.deepEqual(p.get('default-src'), ["'none'"]);
      assert.deepEqual(p.get('script-src'), [`'nonce-${nonce}'`]);
      assert.equal((html.match(/<script /g) ?? []).length, 1);
      assert.match(html, new RegExp(`<script nonce="${nonce.replace(/[+=/]/g, '\\$&')}" src="`));
    }
  });

  it("never allows 'unsafe-inline' or 'unsafe-eval', nor wildcard sources", () => {
    for (const html of [vscode, browser]) {
      assert.doesNotMatch(html, /unsafe-inline|unsafe-eval|unsafe-hashes/);
      for (const [, sources] of csp(html)) assert.ok(!sources.includes('*'), sources.join(' '));
    }
  });

  it('takes styles, images and fonts from the resource origin only', () => {
    const p = csp(vscode);
    assert.deepEqual(p.get('style-src'), ['https://*.vscode-cdn.net']);
    assert.deepEqual(p.get('img-src'), ['https://*.vscode-cdn.net', 'data:']);
    assert.deepEqual(p.get('font-src'), ['https://*.vscode-cdn.net']);
    assert.deepEqual(csp(browser).get('style-src'), ["'self'"]);
  });

  it('lets only the browser page fetch, and only from its own origin', () => {
    assert.equal(csp(vscode).has('connect-src'), false);
    assert.deepEqual(csp(browser).get('connect-src'), ["'self'"]);
  });

  it('carries no data and escapes what it is given', () => {
    const html = dashboardHtml({
      scriptUri: 'webview.js?a=1&b="><script>alert(1)</script>',
      styleUri: 'dashboard.css',
      nonce,
      cspSource: "'self'",
      mode: 'browser',
      title: '<img src=x onerror=alert(1)>',
    });
    assert.doesNotMatch(html, /<img|"><script>/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('refuses a nonce or source that could break out of the policy', () => {
    assert.throws(() => dashboardCsp({ nonce: 'short', cspSource: "'self'", mode: 'vscode' }), /nonce/);
    assert.throws(
      () => dashboardCsp({ nonce: `${nonce}' 'unsafe-inline`, cspSource: "'self'", mode: 'vscode' }),
      /nonce/,
    );
    assert.throws(
      () => dashboardCsp({ nonce, cspSource: "'self'; script-src *", mode: 'vscode' }),
      /cspSource/,
    );
    assert.throws(() => dashboardCsp({ nonce, cspSource: "'unsafe-inline'", mode: 'vscode' }), /cspSource/);
  });
});
