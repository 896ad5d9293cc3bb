/**
 * Messages between the extension host and the dashboard webview: one typed protocol for
 * both sides. The webview speaks first (`ready`), so the host never posts into the void.
 */

export type WebviewToHost = { type: 'ready' };

export type HostToWebview = { type: 'state'; title: string; report: unknown };

/** Narrows an incoming message from the webview (messages are untrusted input). */
export function isWebviewMessage(value: unknown): value is WebviewToHost {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'ready';
}
