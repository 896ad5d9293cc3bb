/**
 * The dashboard app. This first cut performs the ready handshake and renders what it is
 * given as text; charts arrive with the VS Code experience issue.
 */
import type { HostToWebview, WebviewToHost } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
const root = document.getElementById('app') ?? document.body;

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  if (event.data?.type !== 'state') return;
  const title = document.createElement('h1');
  title.textContent = event.data.title; // data is always text, never HTML
  const body = document.createElement('pre');
  body.textContent = JSON.stringify(event.data.report, null, 2);
  root.replaceChildren(title, body);
});

vscode?.postMessage({ type: 'ready' });
