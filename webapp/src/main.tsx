/**
 * Boot: launch parameters → theme → sign-in (started at once, awaited by the first API call)
 * and the language's dictionary in parallel → render. Nothing here waits for the network
 * except the dictionary chunk, so the shell paints as soon as the scripts are parsed.
 */

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, resolve } from "./app/App";
import { currentPath } from "./app/router";
import { startApi } from "./api/session";
import { I18nProvider, applyDirection, format, loadDict, pickLanguage, savedChoice } from "./i18n";
import { loadLaunchParams } from "./telegram/launch";
import { applySafeArea, applyTheme } from "./telegram/theme";
import { telegram } from "./telegram/webapp";
import "./styles.css";

async function boot(): Promise<void> {
  const launch = loadLaunchParams(telegram.initData);
  applyTheme(telegram.theme() ?? launch.themeParams);
  telegram.onTheme((theme) => applyTheme(theme));
  const insets = telegram.safeArea();
  if (insets) applySafeArea(insets);
  telegram.onSafeArea(applySafeArea);
  telegram.ready();

  const lang = pickLanguage(savedChoice(), launch.user?.language_code, navigator.language);
  applyDirection(lang);
  const root = createRoot(document.getElementById("root") as HTMLElement);
  const launched = Boolean(launch.botId && launch.initData);
  if (launched && launch.botId) {
    // warm: screens await this same request instead of starting their own
    void startApi(launch.botId, launch.initData).ensureSession().catch(() => undefined);
  }
  const [dict] = await Promise.all([
    loadDict(lang),
    launched ? resolve(currentPath()).route.screen.preload().catch(() => undefined) : null,
  ]);

  if (!launched) {
    root.render(
      <main className="state state-error standalone" role="alert" data-testid="no-launch">
        <strong>{dict["launch.title"]}</strong>
        <span>{format(dict["launch.hint"])}</span>
      </main>,
    );
    return;
  }
  root.render(
    <StrictMode>
      <I18nProvider initial={lang} dict={dict}>
        <App />
      </I18nProvider>
    </StrictMode>,
  );
}

void boot();
