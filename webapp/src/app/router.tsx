/**
 * A tiny path router (no dependency): routes are patterns under the app's base (`/app/`),
 * matched in order; `navigate` pushes history entries, the browser's back/forward and
 * Telegram's BackButton pop them. `depth` counts entries pushed inside the app, so "back"
 * knows whether there is anything of ours to go back to.
 */

import {
  createContext,
  startTransition,
  useContext,
  useEffect,
  useMemo,
  useState,
  type MouseEvent,
  type ReactNode,
} from "react";

export const BASE = import.meta.env.BASE_URL.replace(/\/$/, ""); // "/app"

export interface Location {
  path: string; // below BASE, always starting with "/"
  search: URLSearchParams;
  state: Record<string, unknown> | null;
  depth: number;
}

function current(): Location {
  const raw = window.location.pathname;
  const path = raw.startsWith(BASE) ? raw.slice(BASE.length) || "/" : "/";
  const state = (window.history.state ?? null) as (Record<string, unknown> & { depth?: number }) | null;
  return {
    path,
    search: new URLSearchParams(window.location.search),
    state,
    depth: typeof state?.depth === "number" ? state.depth : 0,
  };
}

type Listener = () => void;
const listeners = new Set<Listener>();
const notify = () => listeners.forEach((cb) => cb());
window.addEventListener("popstate", notify);

export interface NavigateOptions {
  replace?: boolean;
  state?: Record<string, unknown>;
}

/** `to` is below the base ("/store/image-upscale"); the `bot` query parameter is kept. */
export function navigate(to: string, options: NavigateOptions = {}): void {
  const here = current();
  const url = new URL(BASE + to, window.location.origin);
  const bot = here.search.get("bot");
  if (bot && !url.searchParams.has("bot")) url.searchParams.set("bot", bot);
  const depth = options.replace ? here.depth : here.depth + 1;
  const state = { ...options.state, depth };
  const href = url.pathname + url.search;
  if (options.replace) window.history.replaceState(state, "", href);
  else window.history.pushState(state, "", href);
  notify();
}

/** Back inside the app if we pushed anything, else to `fallback`. */
export function goBack(fallback = "/"): void {
  if (current().depth > 0) window.history.back();
  else navigate(fallback, { replace: true });
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    // a transition: a screen whose chunk is still loading keeps the old one on screen
    const update = () => startTransition(() => setLocation(current()));
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return location;
}

export type Params = Record<string, string>;

/** `"/drive/:folder"` against `"/drive/12"` → `{folder: "12"}`; null when it does not match. */
export function match(pattern: string, path: string): Params | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Params = {};
  for (let i = 0; i < want.length; i += 1) {
    const part = want[i] ?? "";
    const value = have[i] ?? "";
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return params;
}

const ParamsContext = createContext<Params>({});
export const ParamsProvider = ParamsContext.Provider;
export const useParams = (): Params => useContext(ParamsContext);

export function Link(props: {
  to: string;
  className?: string;
  children: ReactNode;
  state?: Record<string, unknown>;
  "aria-current"?: "page" | undefined;
  "data-testid"?: string;
}) {
  const href = useMemo(() => BASE + props.to, [props.to]);
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    navigate(props.to, { state: props.state });
  };
  return (
    <a
      href={href}
      className={props.className}
      onClick={onClick}
      aria-current={props["aria-current"]}
      data-testid={props["data-testid"]}
    >
      {props.children}
    </a>
  );
}

/** The route's screen chunk, loaded before the first render (see `screen.tsx`). */
export function currentPath(): string {
  return current().path;
}
