/**
 * Telegram's theme as CSS variables: `bg_color` becomes `--tg-theme-bg-color`, exactly the
 * names the official script sets, so the stylesheet reads one set of variables whether the
 * colours came from the script, the launch fragment or (when neither sent any) the light and
 * dark defaults in `styles.css`. Safe-area insets become `--tg-safe-area-inset-*`.
 */

import type { ThemeParams } from "./launch";
import type { Insets } from "./webapp";

function luminance(hex: string): number | null {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!match?.[1]) return null;
  const value = parseInt(match[1], 16);
  const channels = [(value >> 16) & 255, (value >> 8) & 255, value & 255].map((c) => c / 255);
  const [r = 0, g = 0, b = 0] = channels;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function schemeOf(theme: ThemeParams): "light" | "dark" | null {
  const bg = theme.bg_color;
  const lum = bg ? luminance(bg) : null;
  if (lum === null) return null;
  return lum < 0.5 ? "dark" : "light";
}

export function applyTheme(theme: ThemeParams, root: HTMLElement = document.documentElement): void {
  for (const [key, value] of Object.entries(theme)) {
    if (typeof value === "string" && /^#[0-9a-f]{3,8}$/i.test(value)) {
      root.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    }
  }
  const scheme = schemeOf(theme);
  if (scheme) {
    root.dataset.scheme = scheme;
    root.style.colorScheme = scheme;
  }
}

export function applySafeArea(insets: Insets, root: HTMLElement = document.documentElement): void {
  for (const side of ["top", "bottom", "left", "right"] as const) {
    root.style.setProperty(`--tg-safe-area-inset-${side}`, `${Math.max(0, insets[side] || 0)}px`);
  }
}
