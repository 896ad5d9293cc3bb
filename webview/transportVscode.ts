/**
 * The dashboard inside VS Code: postMessage to the extension host, getState/setState so
 * the panel comes back as it was after a reload (the host's serializer restores the panel).
 */
/// <reference types="vscode-webview" />
import { isHostToWebview } from '../src/shared/protocol';
import type { HostToWebview, WebviewToHost } from '../src/shared/protocol';
import type { Capabilities, Transport } from './transport';

export class VsCodeTransport implements Transport {
  readonly mode = 'vscode' as const;
  readonly can: Capabilities = {
    openLogs: true,
    simulateTraffic: true,
    promoteInSteps: true,
    adminToken: false,
  };
  private readonly api = acquireVsCodeApi<unknown>();

  start(listener: (message: HostToWebview) => void): void {
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      // Messages are untrusted input: only well-formed protocol messages get through.
      if (isHostToWebview(event.data)) listener(event.data);
      else console.warn('model-canary dashboard: ignored a message that is not part of the protocol');
    });
  }

  send(message: WebviewToHost): void {
    this.api.postMessage(message);
  }

  loadUiState(): unknown {
    return this.api.getState();
  }

  saveUiState(state: unknown): void {
    this.api.setState(state);
  }
}

/** True inside a VS Code webview. */
export function inVsCode(): boolean {
  return typeof acquireVsCodeApi === 'function';
}
