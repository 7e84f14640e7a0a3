/** The bot's settings: languages and the default one, the welcome text per language, the
 * referral reward, whether fans' chats are recorded, credit packs (Stars → credits) and what each tool costs fans. */

import { useEffect, useState, type FormEvent } from "react";
import * as creator from "../../api/creator";
import type { Settings } from "../../api/creator";
import { LANGUAGES, LANGUAGE_NAMES, useI18n } from "../../i18n";
import { ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { NumberField } from "./common";
import "./creator.css";

function General({ settings, onSaved }: { settings: Settings; onSaved: (s: Settings) => void }) {
  const { t } = useI18n();
  const [languages, setLanguages] = useState(settings.languages);
  const [defaultLanguage, setDefault] = useState(settings.default_language);
  const [reward, setReward] = useState<number | null>(settings.referral_reward);
  const [chatHistory, setChatHistory] = useState(settings.chat_history);
  const [welcome, setWelcome] = useState<Record<string, string>>(() =>
    Object.fromEntries(LANGUAGES.map((lang) => [lang, settings.welcome[lang] ?? ""])),
  );
  const [welcomeLang, setWelcomeLang] = useState<string>(settings.default_language);
  const { busy, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const changed: Record<string, string | null> = {};
    for (const lang of LANGUAGES) {
      const before = settings.welcome[lang] ?? "";
      const now = welcome[lang] ?? "";
      if (before !== now) changed[lang] = now.trim() ? now : null;
    }
    void run("save", () => creator.saveSettings({ languages, default_language: defaultLanguage, referral_reward: reward ?? 0, chat_history: chatHistory, welcome: changed }), t("settings.saved")).then((s) => s && onSaved(s));
  };
  return (
    <form className="card stack" onSubmit={submit} data-testid="settings-general">
      <fieldset className="field">
        <legend>{t("settings.languages")}</legend>
        <div className="chips">
          {LANGUAGES.map((lang) => (
            <label key={lang} className="chip" aria-selected={languages.includes(lang)}>
              <input type="checkbox" className="sr-only" checked={languages.includes(lang)} onChange={(e) => setLanguages(e.target.checked ? [...languages, lang] : languages.filter((l) => l !== lang))} />
              {LANGUAGE_NAMES[lang]}
            </label>
          ))}
        </div>
      </fieldset>
      <label className="field">
        <span>{t("settings.default_language")}</span>
        <select value={defaultLanguage} onChange={(e) => setDefault(e.target.value)}>
          {languages.map((lang) => (
            <option key={lang} value={lang}>
              {LANGUAGE_NAMES[lang as keyof typeof LANGUAGE_NAMES] ?? lang}
            </option>
          ))}
        </select>
      </label>
      <NumberField label={t("settings.referral_reward")} value={reward} min={0} max={100000} onChange={setReward} />
      <label className="field-inline field">
        <span className="stack tight">
          <span>{t("settings.chat_history")}</span>
          <span className="muted small">{t("settings.chat_history_hint")}</span>
        </span>
        <input type="checkbox" checked={chatHistory} onChange={(e) => setChatHistory(e.target.checked)} data-testid="chat-history" />
      </label>
      <fieldset className="field">
        <legend>{t("settings.welcome")}</legend>
        <div className="chips">
          {LANGUAGES.map((lang) => (
            <button key={lang} type="button" className="chip" aria-selected={welcomeLang === lang} onClick={() => setWelcomeLang(lang)}>
              {LANGUAGE_NAMES[lang]}
            </button>
          ))}
        </div>
        <textarea rows={4} dir="auto" value={welcome[welcomeLang] ?? ""} placeholder={settings.welcome_defaults[welcomeLang] ?? ""} onChange={(e) => setWelcome({ ...welcome, [welcomeLang]: e.target.value })} data-testid="welcome" />
        <span className="muted small">{t("settings.welcome_hint")}</span>
      </fieldset>
      <div className="row end">
        <button type="submit" className="button primary" disabled={busy !== null} data-testid="save-settings">
          {t("common.save")}
        </button>
      </div>
    </form>
  );
}

function Packs() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => creator.creatorPacks(), []);
  const [draft, setDraft] = useState<{ stars: number | null; credits: number | null; bonus: number | null }>({ stars: 100, credits: 100, bonus: 0 });
  const { busy, run } = useAction();
  const add = (event: FormEvent) => {
    event.preventDefault();
    void run("add", () => creator.createPack({ stars: draft.stars ?? 1, credits: draft.credits ?? 1, bonus: draft.bonus ?? 0 }), t("settings.pack_added")).then(list.reload);
  };
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  return (
    <div className="card stack" data-testid="settings-packs">
      <ul className="rows">
        {list.data?.items.map((pack) => (
          <li key={pack.id} className="row-item">
            <span>
              ★{i18n.number(pack.stars)} → {t("settings.pack_credits", { credits: i18n.number(pack.total_credits) })}
              {!pack.is_active && <span className="badge">{t("settings.retired")}</span>}
            </span>
            {pack.is_active && (
              <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => void run("retire", () => creator.retirePack(pack.id)).then(list.reload)}>
                {t("settings.retire")}
              </button>
            )}
          </li>
        ))}
      </ul>
      <form className="row wrap bottom" onSubmit={add}>
        <NumberField label={t("settings.stars")} value={draft.stars} min={1} max={10000} required onChange={(stars) => setDraft({ ...draft, stars })} />
        <NumberField label={t("settings.credits")} value={draft.credits} min={1} required onChange={(credits) => setDraft({ ...draft, credits })} />
        <NumberField label={t("settings.bonus")} value={draft.bonus} min={0} onChange={(bonus) => setDraft({ ...draft, bonus })} />
        <button type="submit" className="button" disabled={busy !== null}>
          {t("settings.add_pack")}
        </button>
      </form>
    </div>
  );
}

function ToolPrices() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => creator.toolPrices(), []);
  const [prices, setPrices] = useState<Record<string, number | null>>({});
  const { busy, run } = useAction();
  useEffect(() => {
    if (list.data) setPrices(Object.fromEntries(list.data.items.map((tool) => [tool.slug, tool.custom_price])));
  }, [list.data]);
  const update = (slug: string, patch: { price?: number | null; is_hidden?: boolean }) =>
    void run(slug, () => creator.setToolPrice(slug, patch)).then((tool) => tool && list.setData((current) => current && { items: current.items.map((item) => (item.slug === slug ? tool : item)) }));
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  return (
    <ul className="rows" data-testid="tool-prices">
      {list.data?.items.map((tool) => (
        <li key={tool.slug} className="row-item">
          <span className="stack tight spacer">
            <span>{tool.name}</span>
            <span className="muted small">{t("settings.tool_price", { price: i18n.number(tool.price), base: i18n.number(tool.base_cost) })}</span>
          </span>
          <input
            className="price-input"
            type="number"
            min={tool.base_cost}
            placeholder={String(tool.default_price)}
            value={prices[tool.slug] ?? ""}
            aria-label={t("settings.custom_price", { tool: tool.name })}
            onChange={(e) => setPrices({ ...prices, [tool.slug]: e.target.value === "" ? null : Number(e.target.value) })}
            onBlur={() => prices[tool.slug] !== tool.custom_price && update(tool.slug, { price: prices[tool.slug] ?? null })}
          />
          <label className="field-inline field small">
            <span>{t("settings.hidden")}</span>
            <input type="checkbox" checked={tool.is_hidden} disabled={busy !== null} onChange={(e) => update(tool.slug, { is_hidden: e.target.checked })} />
          </label>
        </li>
      ))}
    </ul>
  );
}

export default function SettingsScreen() {
  const { t } = useI18n();
  const settings = useResource(() => creator.settings(), []);
  return (
    <section className="stack" data-testid="settings">
      {settings.loading && !settings.data ? (
        <Loading />
      ) : settings.error ? (
        <ErrorView error={settings.error} onRetry={settings.reload} />
      ) : settings.data ? (
        <General settings={settings.data} onSaved={(s) => settings.setData(() => s)} />
      ) : null}
      <h2 className="section-title">{t("settings.packs")}</h2>
      <Packs />
      <h2 className="section-title">{t("settings.tools")}</h2>
      <ToolPrices />
    </section>
  );
}
