import { custom } from '../../dom';
import type { VscodeButton } from '../shared/vscodeElements';

/** A button of the controls panel (Apply…, Confirm, Cancel, …). */
export function controlButton(
  label: string,
  onclick: () => void,
  opts: { secondary?: boolean; disabled?: boolean } = {},
): VscodeButton {
  return custom<VscodeButton>(
    'vscode-button',
    { secondary: !!opts.secondary, disabled: !!opts.disabled, onclick },
    label,
  );
}
