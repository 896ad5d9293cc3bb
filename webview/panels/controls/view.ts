/**
 * The controls under the header: the split editor, the confirmations of a split change, a
 * promotion and a roll back (with the admin token in a browser), and the host's answer.
 */
import type { DashboardState, WebviewToHost } from '../../../src/shared/protocol';
import { custom, h } from '../../dom';
import { splitText } from '../../../src/shared/format';
import type { Transport } from '../../transport';
import { currentWeights, variantColours, variantOrder } from '../../variants';
import type { Report } from '../../../src/shared/report';
import type { VscodeTextfield } from '../shared/vscodeElements';
import { controlButton } from './button';
import { editableSplit } from './shape';
import { splitEditorView } from './splitEditorView';

export type Control =
  | { kind: 'idle' }
  | { kind: 'split'; draft: Record<string, number> }
  | { kind: 'confirm-split'; draft: Record<string, number> }
  | { kind: 'promote' }
  | { kind: 'rollback' }
  /** Waiting for the host; `back` is where a failure returns to (to retry, or enter a token). */
  | { kind: 'busy'; what: string; back: Control };

export class ControlsPanel {
  readonly root: HTMLElement = h('section', { class: 'mc-controls', 'aria-label': 'Controls', hidden: true });
  private control: Control = { kind: 'idle' };
  private toast: { ok: boolean; message: string } | undefined;

  /**
   * @param dashboardState what the dashboard shows now (the report the controls act on)
   * @param onControlChange redraws what depends on the control (the header's buttons)
   */
  constructor(
    private readonly transport: Transport,
    private readonly dashboardState: () => DashboardState | undefined,
    private readonly onControlChange: () => void,
  ) {}

  get kind(): Control['kind'] {
    return this.control.kind;
  }

  /** Set split: the editor starts from the configured split. */
  openSplitEditor(report: Report | null | undefined): void {
    this.open(report ? { kind: 'split', draft: editableSplit(report) } : { kind: 'idle' });
  }

  openPromote(): void {
    this.open({ kind: 'promote' });
  }

  openRollback(): void {
    this.open({ kind: 'rollback' });
  }

  /** Another experiment is on show: nothing half-done carries over. */
  reset(): void {
    this.control = { kind: 'idle' };
  }

  /** The host's answer to the last action: back to idle, or to where a failure can be retried. */
  actionResult(ok: boolean, message: string): void {
    this.toast = { ok, message };
    if (this.control.kind === 'busy') this.control = ok ? { kind: 'idle' } : this.control.back;
    this.render();
    this.onControlChange();
  }

  private open(c: Control): void {
    this.control = c;
    this.toast = undefined;
    this.render();
    this.onControlChange();
  }

  /** The admin-token field (browser only), shown until a token is stored for this tab. */
  private tokenField(): HTMLElement | null {
    if (!this.transport.can.adminToken || this.transport.hasToken?.()) return null;
    const field = custom<VscodeTextfield>('vscode-textfield', {
      type: 'password',
      placeholder: 'adminToken from the router config',
      'aria-label': 'Admin token',
      class: 'mc-token',
    });
    field.addEventListener('change', () => this.transport.setToken?.(field.value.trim()));
    field.addEventListener('input', () => this.transport.setToken?.(field.value.trim()));
    return h(
      'label',
      { class: 'mc-token-row' },
      h('span', {}, 'Admin token'),
      field,
      h('span', { class: 'mc-muted' }, 'kept in this tab only (sessionStorage)'),
    );
  }

  private act(what: string, m: WebviewToHost): void {
    if (this.transport.can.adminToken && !this.transport.hasToken?.()) {
      this.toast = { ok: false, message: 'enter the admin token first' };
      this.render();
      return;
    }
    this.control = { kind: 'busy', what, back: this.control };
    this.toast = undefined;
    this.render();
    this.onControlChange();
    this.transport.send(m);
  }

  render(): void {
    const box = this.root;
    const st = this.dashboardState();
    const report = st?.report;
    const experiment = st?.experiment ?? '';
    const c = this.control;
    const parts: Node[] = [];
    const cancel = (): HTMLElement =>
      controlButton('Cancel', () => this.open({ kind: 'idle' }), { secondary: true });
    const tokenRow = (): HTMLElement[] => [this.tokenField()].filter((x): x is HTMLElement => x !== null);
    if (report) {
      const order = variantOrder(report);
      const colours = variantColours(report);
      const baseline = order[0]!;
      const now = splitText(currentWeights(report), order);
      if (c.kind === 'split') {
        parts.push(
          ...splitEditorView({
            report,
            order,
            colours,
            baseline,
            now,
            editing: c,
            onApply: () => this.open({ kind: 'confirm-split', draft: c.draft }),
            cancel: cancel(),
          }),
        );
      } else if (c.kind === 'confirm-split') {
        parts.push(
          h('h2', {}, 'Change the split?'),
          h('p', {}, 'from ', h('strong', {}, now), ' to ', h('strong', {}, splitText(c.draft, order))),
          ...tokenRow(),
          h(
            'div',
            { class: 'mc-buttons' },
            controlButton('Confirm', () =>
              this.act('setting the split', { type: 'setWeights', experiment, weights: c.draft }),
            ),
            controlButton('Back', () => this.open({ kind: 'split', draft: c.draft }), { secondary: true }),
          ),
        );
      } else if (c.kind === 'promote') {
        const candidates = report.variants.filter((v) => v.role === 'candidate');
        const how = this.transport.can.promoteInSteps
          ? 'the candidate becomes the new baseline, in steps'
          : 'it gets 100% of the traffic at once, the baseline 0%';
        const decided = new Map(report.comparisons.map((x) => [x.variant, x.decision]));
        parts.push(
          h('h2', {}, 'Promote a candidate?'),
          h('p', { class: 'mc-sub' }, how),
          ...tokenRow(),
          h(
            'div',
            { class: 'mc-buttons' },
            ...candidates.map((v) =>
              controlButton(
                `Promote ${v.name}${decided.get(v.name) === 'promote' ? '' : ` (verdict: ${decided.get(v.name) ?? 'none'})`}`,
                () => this.act(`promoting ${v.name}`, { type: 'promote', experiment, variant: v.name }),
                { secondary: decided.get(v.name) !== 'promote' },
              ),
            ),
            cancel(),
          ),
        );
      } else if (c.kind === 'rollback') {
        parts.push(
          h('h2', {}, 'Roll back?'),
          h('p', {}, 'send all traffic back to ', h('strong', {}, baseline), ` (now ${now})`),
          ...tokenRow(),
          h(
            'div',
            { class: 'mc-buttons' },
            controlButton(`Roll back to ${baseline}`, () =>
              this.act('rolling back', { type: 'rollback', experiment }),
            ),
            cancel(),
          ),
        );
      } else if (c.kind === 'busy') {
        parts.push(h('p', { class: 'mc-busy' }, `${c.what}…`));
      }
    }
    if (this.toast)
      parts.push(
        h(
          'p',
          { class: `mc-toast ${this.toast.ok ? 'mc-toast-ok' : 'mc-toast-error'}`, role: 'status' },
          this.toast.message,
        ),
      );
    box.hidden = parts.length === 0;
    box.replaceChildren(...parts);
  }
}
