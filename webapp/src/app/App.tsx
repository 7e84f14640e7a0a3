/** The shell: top bar (back, title, language), the current screen, the main button, the tabs. */

import { Component, Suspense, useEffect, useState, type ReactNode } from "react";
import { creatorMe } from "../api/creator";
import { appOpened } from "../api/tasks";
import { saveLanguage } from "../api/me";
import { api } from "../api/session";
import { LANGUAGE_NAMES, LANGUAGES, asLang, savedChoice, useI18n, type Lang } from "../i18n";
import { telegram } from "../telegram/webapp";
import { useBackButton, useButtons } from "../ui/buttons";
import { Icon } from "../ui/icons";
import { ErrorView, Loading } from "../ui/states";
import { Toaster } from "../ui/toast";
import { ROUTES, TABS, PRELOAD, type RouteDef } from "./routes";
import { Link, ParamsProvider, goBack, match, useLocation, type Params } from "./router";

class ScreenBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }
  render() {
    if (this.state.error) {
      return <ErrorView error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    }
    return this.props.children;
  }
}

export function resolve(path: string): { route: RouteDef; params: Params } {
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (params) return { route, params };
  }
  return { route: ROUTES[0] as RouteDef, params: {} };
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang-switch">
      <Icon name="globe" />
      <select
        aria-label={t("common.language")}
        data-testid="language"
        value={lang}
        onChange={async (event) => {
          const chosen = event.target.value as Lang;
          telegram.select();
          // the bot and the server-made texts (tool names, packs) follow the same choice
          await saveLanguage(chosen).catch(() => undefined);
          await setLang(chosen);
        }}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code}>
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </label>
  );
}

function TopBar({ title }: { title: string }) {
  const { back } = useButtons();
  const { t } = useI18n();
  return (
    <header className="topbar">
      {!telegram.nativeButtons && back && (
        <button type="button" className="icon-button back" onClick={back} aria-label={t("common.back")} data-testid="back">
          <Icon name="back" className="flip-rtl" />
        </button>
      )}
      <h1 className="topbar-title">{title}</h1>
      <LanguageSwitch />
    </header>
  );
}

function FallbackMainButton() {
  const { main } = useButtons();
  if (telegram.nativeButtons || !main) return null;
  return (
    <div className="main-button-bar">
      <button
        type="button"
        className="button primary main-button"
        disabled={main.disabled || main.progress}
        onClick={main.onClick}
        data-testid="main-button"
      >
        {main.progress ? <span className="spinner small" aria-hidden="true" /> : null}
        {main.text}
      </button>
    </div>
  );
}

/** The creator tab appears once `/creator/me` says the signed-in user runs this bot. */
function useIsCreator(): boolean {
  const [creator, setCreator] = useState(false);
  useEffect(() => {
    let live = true;
    creatorMe()
      .then((me) => live && setCreator(me !== null))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return creator;
}

function TabBar({ active }: { active: string }) {
  const { t } = useI18n();
  const creator = useIsCreator();
  const tabs = TABS.filter((tab) => !tab.creatorOnly || creator || tab.id === active);
  return (
    <nav className="tabbar" aria-label={t("common.sections")}>
      {tabs.map((tab) => (
        <span
          key={tab.id}
          className="tab-slot"
          onPointerEnter={() => void PRELOAD[tab.id]()}
          onClick={() => telegram.select()}
        >
          <Link
            to={tab.path}
            className={tab.id === active ? "tab active" : "tab"}
            aria-current={tab.id === active ? "page" : undefined}
            data-testid={`tab-${tab.id}`}
          >
            <Icon name={tab.icon} />
            <span>{t(tab.label)}</span>
          </Link>
        </span>
      ))}
    </nav>
  );
}

/** The bot keeps a language per fan (`/language`); follow it unless the fan chose one here. */
function useServerLanguage() {
  const { lang, setLang } = useI18n();
  useEffect(() => {
    if (savedChoice()) return;
    api()
      .ensureSession()
      .then((session) => {
        const wanted = asLang(session.response.user.language);
        if (wanted && wanted !== lang) void setLang(wanted, false);
      })
      .catch(() => undefined);
    // once, at start
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}

/** Open-the-app streaks count a day when the page is visible (the server keeps one a day). */
function useAppOpens() {
  useEffect(() => {
    const ping = () => {
      if (document.visibilityState === "visible") appOpened().catch(() => undefined);
    };
    ping();
    document.addEventListener("visibilitychange", ping);
    return () => document.removeEventListener("visibilitychange", ping);
  }, []);
}

export function App() {
  const location = useLocation();
  const { t, lang } = useI18n();
  const { route, params } = resolve(location.path);
  const tab = TABS.find((item) => item.id === route.tab) ?? TABS[0];
  useBackButton(route.root ? null : () => goBack(tab?.path ?? "/"));
  useServerLanguage();
  useAppOpens();
  const Screen = route.screen;
  return (
    <div className="app">
      <TopBar title={route.title ? t(route.title) : tab ? t(tab.label) : ""} />
      <main className="screen" data-testid={`screen-${route.tab}`}>
        <ScreenBoundary resetKey={location.path}>
          <Suspense fallback={<Loading />}>
            <ParamsProvider value={params}>
              {/* a new language remounts the screen: server texts come again in it */}
              <Screen key={`${route.pattern}:${lang}`} />
            </ParamsProvider>
          </Suspense>
        </ScreenBoundary>
      </main>
      <FallbackMainButton />
      <TabBar active={route.tab} />
      <Toaster />
    </div>
  );
}
