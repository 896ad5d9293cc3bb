/** Typed settings over the `modelCanary` section, in one place; reacts to changes. */
import * as vscode from 'vscode';

export interface Settings {
  kindPath: string;
  clusterName: string;
  routerPort: number;
}

const SECTION = 'modelCanary';

export class Config implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Settings>();
  /** Fires with the new settings after a `modelCanary.*` setting changes. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) this.changed.fire(this.settings);
    });
  }

  get settings(): Settings {
    const c = vscode.workspace.getConfiguration(SECTION);
    return {
      kindPath: c.get<string>('kind.path', ''),
      clusterName: c.get<string>('kind.clusterName', 'model-canary'),
      routerPort: c.get<number>('router.port', 8090),
    };
  }

  /** Opens the Settings UI on our section (the "Open Settings" action of notifications). */
  static open(key = SECTION): Thenable<unknown> {
    return vscode.commands.executeCommand('workbench.action.openSettings', key);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
