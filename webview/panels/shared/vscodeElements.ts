/** The properties the dashboard sets on @vscode-elements components (registered in main.ts). */

export interface VscodeButton extends HTMLElement {
  disabled: boolean;
}

export interface VscodeTextfield extends HTMLElement {
  value: string;
}
