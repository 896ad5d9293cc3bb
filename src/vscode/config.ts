/** Typed settings over the `modelCanary` section, in one place; reacts to changes. */
import * as vscode from 'vscode';

export interface Settings {
  pythonPath: string;
  kindPath: string;
  clusterName: string;
  /** Node image for Create kind Cluster; empty: the digest-pinned image of the pinned kind. */
  kindNodeImage: string;
  protectedContextPattern: string;
  refreshIntervalSeconds: number;
  routerPort: number;
  modelServerImage: string;
  /** Namespace of the stack on Kubernetes contexts. */
  kubeNamespace: string;
  /** Remote contexts: HTTP(S) URL under which the model folders are published. */
  kubeModelUriBase: string;
  /** Router replicas on Kubernetes; 0: keep what runs. */
  kubeRouterReplicas: number;
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
      pythonPath: c.get<string>('python.path', ''),
      kindPath: c.get<string>('kind.path', ''),
      clusterName: c.get<string>('kind.clusterName', 'model-canary'),
      kindNodeImage: c.get<string>('kind.nodeImage', '').trim(),
      protectedContextPattern: c.get<string>('promotion.protectedContextPattern', 'prod'),
      refreshIntervalSeconds: Math.max(1, c.get<number>('refreshIntervalSeconds', 2)),
      routerPort: c.get<number>('router.port', 8090),
      modelServerImage: c.get<string>('modelServer.image', ''),
      kubeNamespace: c.get<string>('kubernetes.namespace', 'model-canary') || 'model-canary',
      kubeModelUriBase: c.get<string>('kubernetes.modelUriBase', '').trim(),
      kubeRouterReplicas: Math.max(0, Math.trunc(c.get<number>('kubernetes.routerReplicas', 0))),
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
