/**
 * The header: the experiment, its environment and configured split, how old the report is,
 * and the actions (Set split, Promote, Roll back, Logs).
 */
import type { DashboardState } from '../../../src/shared/protocol';
import { custom, h } from '../../dom';
import { ago } from '../../../src/shared/format';
import type { Capabilities } from '../../transport';
import type { VscodeButton } from '../shared/vscodeElements';
import { headerSplit } from './shape';

export interface HeaderActions {
  setSplit(): void;
  promote(): void;
  rollback(): void;
  openLogs(): void;
}

/** What the header shows; it is redrawn only when this changes. */
export function headerKey(st: DashboardState | undefined, controlKind: string): unknown[] {
  const report = st?.report;
  return [
    st?.experiment,
    st?.environment,
    report && headerSplit(report),
    controlKind,
    report?.variants.map((v) => v.role),
  ];
}

export function headerView(
  st: DashboardState | undefined,
  can: Capabilities,
  busy: boolean,
  actions: HeaderActions,
): Node[] {
  const report = st?.report;
  const title = h(
    'div',
    { class: 'mc-title' },
    h('h1', {}, st?.experiment ?? 'Model Canary'),
    st ? h('span', { class: 'mc-env', title: 'environment' }, st.environment) : null,
    report ? h('span', { class: 'mc-split', title: 'configured split' }, headerSplit(report)) : null,
    h('span', { class: 'mc-age', 'data-age': '' }),
  );
  const candidates = report?.variants.filter((v) => v.role === 'candidate') ?? [];
  const button = (
    label: string,
    onclick: () => void,
    opts: { secondary?: boolean; disabled?: boolean; title?: string } = {},
  ): HTMLElement =>
    custom<VscodeButton>(
      'vscode-button',
      { secondary: !!opts.secondary, disabled: !!opts.disabled || busy, title: opts.title ?? '', onclick },
      label,
    );
  const buttons = h(
    'div',
    { class: 'mc-actions' },
    button('Set split', actions.setSplit, {
      secondary: true,
      disabled: !report || candidates.length === 0,
      title: 'Change the weights (with a confirmation)',
    }),
    button('Promote', actions.promote, {
      disabled: !report || candidates.length === 0,
      title: can.promoteInSteps
        ? 'Make a candidate the new baseline, in steps'
        : 'Send all traffic to a candidate',
    }),
    button('Roll back', actions.rollback, {
      secondary: true,
      disabled: !report,
      title: 'Send all traffic back to the baseline',
    }),
    can.openLogs
      ? button('Logs', actions.openLogs, {
          secondary: true,
          title: 'Show the Model Canary output',
        })
      : null,
  );
  return [title, buttons];
}

/** "report 4 s ago" in the header, marked stale after 15 s. */
export function showReportAge(header: HTMLElement, st: DashboardState | undefined): void {
  const span = header.querySelector<HTMLElement>('[data-age]');
  const report = st?.report;
  if (!span || !report) return;
  const ts = Date.parse(report.generatedAt);
  const age = Date.now() - ts;
  span.textContent = `report ${ago(ts, Date.now())}`;
  span.title = report.generatedAt;
  span.classList.toggle('mc-stale', age > 15_000);
}
