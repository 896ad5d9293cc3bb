/**
 * Colour strings from the theme made translucent for chart fills. Pure; tested in node.
 * VS Code hands colours as #rgb, #rrggbb, #rrggbbaa or rgb()/rgba(); anything else falls back
 * to color-mix(), which canvas fill styles understand in current Chromium.
 */

/** The colour at `alpha` opacity (multiplied with its own alpha, if it has one). */
export function withAlpha(colour: string, alpha: number): string {
  const c = colour.trim();
  const a = Math.min(1, Math.max(0, alpha));
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c)?.[1];
  if (hex && [3, 4, 6, 8].includes(hex.length)) {
    const full = hex.length <= 4 ? [...hex].map((d) => d + d).join('') : hex;
    const r = parseInt(full.slice(0, 2), 16);
    const g = parseInt(full.slice(2, 4), 16);
    const b = parseInt(full.slice(4, 6), 16);
    const own = full.length === 8 ? parseInt(full.slice(6, 8), 16) / 255 : 1;
    return `rgba(${r}, ${g}, ${b}, ${round(own * a)})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(c);
  if (rgb) {
    const ownText = rgb[4];
    const own =
      ownText === undefined ? 1 : ownText.endsWith('%') ? parseFloat(ownText) / 100 : parseFloat(ownText);
    return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${round(own * a)})`;
  }
  return `color-mix(in srgb, ${c} ${Math.round(a * 100)}%, transparent)`;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
