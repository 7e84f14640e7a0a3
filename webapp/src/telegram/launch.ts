/**
 * Launch parameters, read the way Telegram passes them.
 *
 * Telegram opens a Mini App at its URL with `#tgWebAppData=...&tgWebAppThemeParams=...
 * &tgWebAppVersion=...` in the fragment (and, when the official script is loaded,
 * `window.Telegram.WebApp.initData`). The bot id rides in the query (`?bot=`), because the
 * API needs to know whose token signed the data. Everything is copied to sessionStorage on
 * first read: client-side navigation drops the fragment, and a reload must still sign in.
 */

export type ThemeParams = Record<string, string>;

export interface WebAppUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface LaunchParams {
  initData: string;
  botId: number | null;
  version: string;
  platform: string;
  themeParams: ThemeParams;
  startParam: string | null;
  /** A non-Telegram word in the fragment (`#creator`): which screen the link meant. */
  hint: string | null;
  user: WebAppUser | null;
}

const STORAGE_KEY = "atelier.launch";

function parseJson<T>(text: string | null | undefined): T | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

export function userOf(initData: string): WebAppUser | null {
  const user = parseJson<WebAppUser>(new URLSearchParams(initData).get("user"));
  return user && typeof user.id === "number" ? user : null;
}

function positiveInt(text: string | null): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

interface Sources {
  hash: string;
  search: string;
  webAppInitData?: string;
  stored: string | null;
}

/** Pure: merges the fragment, the query, the official script's data and the stored copy. */
export function readLaunchParams(sources: Sources): LaunchParams {
  const fragment = new URLSearchParams(sources.hash.replace(/^#/, ""));
  const query = new URLSearchParams(sources.search);
  const stored = parseJson<Partial<LaunchParams>>(sources.stored) ?? {};
  const initData = sources.webAppInitData || fragment.get("tgWebAppData") || stored.initData || "";
  let hint: string | null = null;
  for (const key of fragment.keys()) {
    if (!key.startsWith("tgWebApp")) {
      hint = key;
      break;
    }
  }
  return {
    initData,
    botId: positiveInt(query.get("bot")) ?? stored.botId ?? null,
    version: fragment.get("tgWebAppVersion") ?? stored.version ?? "6.0",
    platform: fragment.get("tgWebAppPlatform") ?? stored.platform ?? "unknown",
    themeParams:
      parseJson<ThemeParams>(fragment.get("tgWebAppThemeParams")) ?? stored.themeParams ?? {},
    startParam: fragment.get("tgWebAppStartParam") ?? stored.startParam ?? null,
    hint: hint ?? stored.hint ?? null,
    user: initData ? userOf(initData) : null,
  };
}

export function loadLaunchParams(webAppInitData?: string): LaunchParams {
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // storage can be disabled (private mode in some webviews): the URL is enough then
  }
  const params = readLaunchParams({
    hash: location.hash,
    search: location.search,
    webAppInitData,
    stored,
  });
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(params));
  } catch {
    // see above
  }
  return params;
}
