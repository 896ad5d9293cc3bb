/**
 * How the dashboard talks to whoever has the data: one interface, two transports. Inside
 * VS Code it is postMessage to the extension host; in a browser (served by the router at
 * /dashboard/) it is HTTP to the router's API. Both speak the protocol in
 * src/shared/protocol.ts, so the app does not know which one it has.
 */
import type { HostToWebview, WebviewToHost } from '../src/shared/protocol';

export interface Capabilities {
  /** The host has an output channel to show (VS Code). */
  openLogs: boolean;
  /** The host can run Simulate Traffic (VS Code). */
  simulateTraffic: boolean;
  /** Promotion goes in steps (VS Code) rather than all at once (browser). */
  promoteInSteps: boolean;
  /** Weight changes need the router's admin token, asked for in the page (browser). */
  adminToken: boolean;
}

export interface Transport {
  readonly mode: 'vscode' | 'browser';
  readonly can: Capabilities;
  /** Starts listening; `listener` gets only messages that passed `isHostToWebview`. */
  start(listener: (message: HostToWebview) => void): void;
  send(message: WebviewToHost): void;
  /** UI state saved by `saveUiState` (survives a reload of the webview or the tab). */
  loadUiState(): unknown;
  saveUiState(state: unknown): void;
  /** Browser only: the admin token for weight changes, kept in sessionStorage. */
  hasToken?(): boolean;
  setToken?(token: string): void;
}
