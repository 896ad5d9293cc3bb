/**
 * The VS Code theme as chart colours. VS Code puts its colours on <html> as --vscode-*
 * custom properties; media/dashboard.css maps them to --mc-* with fallbacks for a plain
 * browser (light and dark), and this reads the resolved values for Chart.js's canvas.
 */
import { withAlpha } from './colour';
import type { ColourKey } from './variants';

export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  red: string;
  green: string;
  yellow: string;
  colours: Record<ColourKey, string>;
  font: string;
  highContrast: boolean;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const cls = document.body.classList;
  const fg = v('--mc-fg', '#444');
  return {
    fg,
    muted: v('--mc-muted', '#777'),
    grid: withAlpha(fg, 0.12),
    bg: v('--mc-bg', '#fff'),
    red: v('--mc-red', '#e51400'),
    green: v('--mc-green', '#388a34'),
    yellow: v('--mc-yellow', '#bf8803'),
    colours: {
      neutral: v('--mc-neutral', '#888'),
      blue: v('--mc-blue', '#1a85ff'),
      orange: v('--mc-orange', '#d18616'),
      purple: v('--mc-purple', '#652d90'),
      green: v('--mc-green', '#388a34'),
      yellow: v('--mc-yellow', '#bf8803'),
    },
    font: v('--mc-font', 'system-ui, sans-serif'),
    highContrast: cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light'),
  };
}

/** Calls `onChange` when VS Code switches theme (it swaps the body's classes and <html>'s style). */
export function watchTheme(onChange: () => void): void {
  const observer = new MutationObserver(() => onChange());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => onChange());
}
