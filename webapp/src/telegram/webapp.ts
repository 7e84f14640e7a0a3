/**
 * A small typed adapter over the three places a Mini App can find itself:
 *
 * - `webapp`: the official `telegram-web-app.js` is loaded (`window.Telegram.WebApp`);
 * - `proxy`: a native Telegram client without that script (`window.TelegramWebviewProxy`):
 *   we speak its event protocol ourselves (`postEvent` out, `Telegram.WebView.receiveEvent` in);
 * - `browser`: a plain browser or an iframe (the emulator's chat page, Telegram Web): no native
 *   Back/Main buttons, so the shell draws its own (`nativeButtons` is false), and invoices open
 *   as links.
 *
 * Screens never touch `window.Telegram`; they call this module, so the app behaves the same
 * everywhere and tests can run in headless Chromium.
 */

import type { ThemeParams } from "./launch";

export type ImpactStyle = "light" | "medium" | "heavy" | "rigid" | "soft";
export type NotificationType = "error" | "success" | "warning";
export type InvoiceStatus = "paid" | "cancelled" | "failed" | "pending" | "opened";
export type Mode = "webapp" | "proxy" | "browser";

export interface Insets {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface MainButtonState {
  text: string;
  visible: boolean;
  active: boolean;
  progress: boolean;
}

interface OfficialButton {
  show(): void;
  hide(): void;
  onClick(cb: () => void): void;
  offClick(cb: () => void): void;
}

interface OfficialMainButton extends OfficialButton {
  setParams(params: { text?: string; is_active?: boolean; is_visible?: boolean }): void;
  showProgress(leaveActive?: boolean): void;
  hideProgress(): void;
}

interface OfficialWebApp {
  initData: string;
  version: string;
  platform: string;
  colorScheme: "light" | "dark";
  themeParams: ThemeParams;
  safeAreaInset?: Insets;
  contentSafeAreaInset?: Insets;
  viewportStableHeight?: number;
  BackButton: OfficialButton;
  MainButton: OfficialMainButton;
  HapticFeedback?: {
    impactOccurred(style: ImpactStyle): void;
    notificationOccurred(type: NotificationType): void;
    selectionChanged(): void;
  };
  ready(): void;
  expand(): void;
  openInvoice?(url: string, callback?: (status: InvoiceStatus) => void): void;
  openLink(url: string): void;
  onEvent(event: string, handler: () => void): void;
  isVersionAtLeast(version: string): boolean;
}

type Listener = (data: Record<string, unknown>) => void;

declare global {
  interface Window {
    Telegram?: {
      WebApp?: OfficialWebApp;
      WebView?: { receiveEvent?: (event: string, data: unknown) => void };
    };
    TelegramWebviewProxy?: { postEvent(event: string, data: string): void };
  }
}

const listeners = new Map<string, Set<Listener>>();

function emit(event: string, data: unknown): void {
  const payload = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  listeners.get(event)?.forEach((cb) => cb(payload));
}

function on(event: string, cb: Listener): () => void {
  const set = listeners.get(event) ?? new Set<Listener>();
  set.add(cb);
  listeners.set(event, set);
  return () => set.delete(cb);
}

function detectMode(): Mode {
  if (window.Telegram?.WebApp?.initData) return "webapp";
  if (window.TelegramWebviewProxy) return "proxy";
  return "browser";
}

const official = (): OfficialWebApp | undefined => window.Telegram?.WebApp;

function postEvent(event: string, data: object = {}): void {
  try {
    window.TelegramWebviewProxy?.postEvent(event, JSON.stringify(data));
  } catch {
    // an old client without this event: the in-app behaviour still works
  }
}

function installReceiver(): void {
  const telegram = (window.Telegram ??= {});
  const webView = (telegram.WebView ??= {});
  const previous = webView.receiveEvent;
  webView.receiveEvent = (event, data) => {
    previous?.(event, data);
    emit(event, data);
  };
}

const INVOICE_SLUG = [/^https:\/\/t\.me\/\$([\w-]+)$/, /^https:\/\/t\.me\/invoice\/([\w-]+)$/];

export function invoiceSlug(url: string): string | null {
  for (const pattern of INVOICE_SLUG) {
    const match = pattern.exec(url);
    if (match?.[1]) return match[1];
  }
  return null;
}

export class TelegramAdapter {
  readonly mode: Mode;
  private backHandler = (): void => emit("back_button_pressed", {});
  private mainHandler = (): void => emit("main_button_pressed", {});

  constructor(mode: Mode = detectMode()) {
    this.mode = mode;
    if (mode === "proxy") installReceiver();
    const app = official();
    if (mode === "webapp" && app) {
      app.BackButton.onClick(this.backHandler);
      app.MainButton.onClick(this.mainHandler);
      app.onEvent("themeChanged", () => emit("theme_changed", { theme_params: app.themeParams }));
      app.onEvent("safeAreaChanged", () => emit("safe_area_changed", { ...app.safeAreaInset }));
    }
  }

  /** The host draws Back and Main buttons; otherwise the shell draws its own. */
  get nativeButtons(): boolean {
    return this.mode !== "browser";
  }

  get initData(): string | undefined {
    return official()?.initData || undefined;
  }

  theme(): ThemeParams | null {
    return this.mode === "webapp" ? (official()?.themeParams ?? null) : null;
  }

  safeArea(): Insets | null {
    return this.mode === "webapp" ? (official()?.safeAreaInset ?? null) : null;
  }

  ready(): void {
    if (this.mode === "webapp") {
      official()?.ready();
      official()?.expand();
    } else if (this.mode === "proxy") {
      postEvent("web_app_ready");
      postEvent("web_app_expand");
      postEvent("web_app_request_theme");
      postEvent("web_app_request_safe_area");
    }
  }

  setBackButton(visible: boolean): void {
    const app = official();
    if (this.mode === "webapp" && app) (visible ? app.BackButton.show() : app.BackButton.hide());
    else if (this.mode === "proxy") postEvent("web_app_setup_back_button", { is_visible: visible });
  }

  setMainButton(state: MainButtonState): void {
    const app = official();
    if (this.mode === "webapp" && app) {
      app.MainButton.setParams({ text: state.text, is_active: state.active, is_visible: state.visible });
      if (state.progress) app.MainButton.showProgress(false);
      else app.MainButton.hideProgress();
    } else if (this.mode === "proxy") {
      postEvent("web_app_setup_main_button", {
        is_visible: state.visible,
        is_active: state.active,
        is_progress_visible: state.progress,
        text: state.text,
      });
    }
  }

  onBack(cb: () => void): () => void {
    return on("back_button_pressed", cb);
  }

  onMain(cb: () => void): () => void {
    return on("main_button_pressed", cb);
  }

  onTheme(cb: (theme: ThemeParams) => void): () => void {
    return on("theme_changed", (data) => cb((data.theme_params ?? {}) as ThemeParams));
  }

  onSafeArea(cb: (insets: Insets) => void): () => void {
    return on("safe_area_changed", (data) => cb(data as unknown as Insets));
  }

  impact(style: ImpactStyle = "light"): void {
    if (this.mode === "webapp") official()?.HapticFeedback?.impactOccurred(style);
    else postEvent("web_app_trigger_haptic_feedback", { type: "impact", impact_style: style });
  }

  notify(type: NotificationType): void {
    if (this.mode === "webapp") official()?.HapticFeedback?.notificationOccurred(type);
    else postEvent("web_app_trigger_haptic_feedback", { type: "notification", notification_type: type });
  }

  select(): void {
    if (this.mode === "webapp") official()?.HapticFeedback?.selectionChanged();
    else postEvent("web_app_trigger_haptic_feedback", { type: "selection_change" });
  }

  /** Telegram's payment sheet where there is one; a new tab with the link elsewhere. */
  openInvoice(url: string): Promise<InvoiceStatus> {
    const app = official();
    const slug = invoiceSlug(url);
    if (this.mode === "webapp" && app?.openInvoice && slug) {
      return new Promise((resolve) => app.openInvoice?.(url, resolve));
    }
    if (this.mode === "proxy" && slug) {
      return new Promise((resolve) => {
        const off = on("invoice_closed", (data) => {
          if (data.slug !== slug) return;
          off();
          resolve((data.status as InvoiceStatus) ?? "pending");
        });
        postEvent("web_app_open_invoice", { slug });
      });
    }
    this.openLink(url);
    return Promise.resolve("opened");
  }

  openLink(url: string): void {
    const app = official();
    if (this.mode === "webapp" && app) app.openLink(url);
    else if (this.mode === "proxy") postEvent("web_app_open_link", { url });
    else window.open(url, "_blank", "noopener,noreferrer");
  }
}

export const telegram = new TelegramAdapter();
