/**
 * Four languages (EN, TR, RU, AR), each a small dictionary in its own lazy chunk.
 *
 * The language comes from, in order: the fan's choice in this app (localStorage), the
 * language the bot keeps for them (sign-in answer), Telegram's `language_code`, the browser.
 * Arabic switches the document to `dir="rtl"`; the stylesheet uses logical properties only,
 * so the layout mirrors without a second stylesheet. Every dictionary is typed against the
 * English keys, so a missing translation fails the type check, not the fan.
 */

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { Key } from "./en";

export const LANGUAGES = ["en", "tr", "ru", "ar"] as const;
export type Lang = (typeof LANGUAGES)[number];
export type Dict = Record<Key, string>;
export type { Key };

export const LANGUAGE_NAMES: Record<Lang, string> = {
  en: "English",
  tr: "Türkçe",
  ru: "Русский",
  ar: "العربية",
};

const RTL: ReadonlySet<Lang> = new Set(["ar"]);
const CHOICE_KEY = "atelier.lang";

const loaders: Record<Lang, () => Promise<{ default: Dict }>> = {
  en: () => import("./en"),
  tr: () => import("./tr"),
  ru: () => import("./ru"),
  ar: () => import("./ar"),
};

export function asLang(code: string | null | undefined): Lang | null {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0] ?? "";
  return (LANGUAGES as readonly string[]).includes(base) ? (base as Lang) : null;
}

export function savedChoice(): Lang | null {
  try {
    return asLang(localStorage.getItem(CHOICE_KEY));
  } catch {
    return null;
  }
}

export function pickLanguage(...candidates: (string | null | undefined)[]): Lang {
  for (const candidate of candidates) {
    const lang = asLang(candidate);
    if (lang) return lang;
  }
  return "en";
}

export async function loadDict(lang: Lang): Promise<Dict> {
  return (await loaders[lang]()).default;
}

export function applyDirection(lang: Lang): void {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = RTL.has(lang) ? "rtl" : "ltr";
}

export type Vars = Record<string, string | number>;

export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

export interface I18n {
  lang: Lang;
  dir: "ltr" | "rtl";
  t(key: Key, vars?: Vars): string;
  /** Switch language; `persist: false` for a default that is not the fan's own choice. */
  setLang(lang: Lang, persist?: boolean): Promise<void>;
  number(value: number): string;
  date(iso: string): string;
  bytes(value: number): string;
  seconds(value: number): string;
}

const Context = createContext<I18n | null>(null);

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

export function I18nProvider(props: { initial: Lang; dict: Dict; children: ReactNode }) {
  const [state, setState] = useState({ lang: props.initial, dict: props.dict });
  const setLang = useCallback(async (lang: Lang, persist = true) => {
    const dict = await loadDict(lang);
    try {
      if (persist) localStorage.setItem(CHOICE_KEY, lang);
    } catch {
      // the choice lasts for this page only
    }
    applyDirection(lang);
    setState({ lang, dict });
  }, []);
  const value = useMemo<I18n>(() => {
    const { lang, dict } = state;
    const numbers = new Intl.NumberFormat(lang);
    const dates = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    return {
      lang,
      dir: RTL.has(lang) ? "rtl" : "ltr",
      t: (key, vars) => format(dict[key] ?? key, vars),
      setLang,
      number: (n) => numbers.format(n),
      date: (iso) => dates.format(new Date(iso)),
      bytes: (n) => {
        let unit = 0;
        let size = n;
        while (size >= 1000 && unit < UNITS.length - 1) {
          size /= 1000;
          unit += 1;
        }
        return new Intl.NumberFormat(lang, {
          style: "unit",
          unit: UNITS[unit],
          unitDisplay: "short",
          maximumFractionDigits: unit === 0 ? 0 : 1,
        }).format(size);
      },
      seconds: (s) =>
        new Intl.NumberFormat(lang, {
          style: "unit",
          unit: "second",
          unitDisplay: "short",
          maximumFractionDigits: 1,
        }).format(s),
    };
  }, [state, setLang]);
  return <Context.Provider value={value}>{props.children}</Context.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(Context);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
