/**
 * The bot's texts: every message key with our default per language and the creator's own
 * version. The editor numbers its lines, renders a live preview with sample values as you
 * type, and shows the sandbox's refusal on the line it names (the same check saving runs).
 */

import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import * as creator from "../../api/creator";
import type { TextItem } from "../../api/creator";
import { LANGUAGE_NAMES, asLang, useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import "./creator.css";

function languageName(code: string): string {
  const lang = asLang(code);
  return lang ? LANGUAGE_NAMES[lang] : code;
}

interface Problem {
  line: number | null;
  reason: string;
}

function problemOf(error: unknown): Problem | null {
  if (!(error instanceof ApiError) || error.status !== 422) return null;
  const line = Number(error.details?.line);
  const reason = String(error.details?.reason ?? error.message);
  return { line: Number.isInteger(line) && line > 0 ? line : null, reason };
}

/** A textarea with a line-number gutter that scrolls with it; the refused line is marked. */
function NumberedEditor(props: { value: string; onChange: (value: string) => void; badLine: number | null }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = Math.max(1, props.value.split("\n").length);
  return (
    <div className="numbered">
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <span key={i} className={props.badLine === i + 1 ? "bad" : undefined} data-testid={props.badLine === i + 1 ? "bad-line" : undefined}>
            {i + 1}
          </span>
        ))}
      </div>
      <textarea
        value={props.value}
        rows={Math.min(14, Math.max(5, lines + 1))}
        spellCheck={false}
        dir="auto"
        onChange={(e) => props.onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        data-testid="template"
      />
    </div>
  );
}

function Editor({ item, languages, onSaved }: { item: TextItem; languages: string[]; onSaved: () => void }) {
  const { t, lang: uiLang } = useI18n();
  const [lang, setLang] = useState(languages.includes(uiLang) ? uiLang : (languages[0] ?? "en"));
  const initial = item.overrides[lang] ?? item.defaults[lang] ?? "";
  const [template, setTemplate] = useState(initial);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const { busy, run } = useAction();
  useEffect(() => setTemplate(initial), [initial]);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      creator.previewText(item.key, lang, template).then(
        (out) => {
          setPreview(out.text);
          setProblem(null);
        },
        (error: unknown) => {
          setProblem(problemOf(error) ?? { line: null, reason: error instanceof Error ? error.message : String(error) });
        },
      );
    }, 350);
    return () => window.clearTimeout(timer);
  }, [item.key, lang, template]);
  const save = () =>
    void run("save", () => creator.saveText(item.key, lang, template), t("texts.saved")).then((saved) => saved && onSaved());
  const reset = () => void run("reset", () => creator.resetText(item.key, lang), t("texts.reset_done")).then(onSaved);
  return (
    <div className="card stack" data-testid="text-editor">
      <strong className="mono">{item.key}</strong>
      <div className="chips" role="tablist">
        {languages.map((code) => (
          <button key={code} type="button" role="tab" className="chip" aria-selected={code === lang} onClick={() => setLang(code)}>
            {languageName(code)}
            {item.overrides[code] !== undefined && <Icon name="check" />}
          </button>
        ))}
      </div>
      {item.variables.length > 0 && (
        <div className="chips small">
          <span className="muted">{t("texts.variables")}</span>
          {item.variables.map((name) => (
            <button key={name} type="button" className="chip mono" onClick={() => setTemplate((v) => `${v}{{ ${name} }}`)}>
              {`{{ ${name} }}`}
            </button>
          ))}
        </div>
      )}
      <NumberedEditor value={template} onChange={setTemplate} badLine={problem?.line ?? null} />
      {problem && (
        <div className="error-text" role="alert" data-testid="template-error">
          {problem.line ? t("texts.error_line", { line: problem.line, reason: problem.reason }) : problem.reason}
        </div>
      )}
      <div className="field">
        <span className="muted small">{t("texts.preview")}</span>
        <div className="message-preview" data-testid="text-preview" dir="auto">
          {preview ?? "…"}
        </div>
      </div>
      <div className="row end">
        {item.overrides[lang] !== undefined && (
          <button type="button" className="button ghost" disabled={busy !== null} onClick={reset}>
            {t("texts.reset")}
          </button>
        )}
        <button type="button" className="button primary" disabled={busy !== null || problem !== null || template === initial} onClick={save} data-testid="save-text">
          {t("common.save")}
        </button>
      </div>
    </div>
  );
}

export default function TextsScreen() {
  const { t } = useI18n();
  const list = useResource(() => creator.texts(), []);
  const [filter, setFilter] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const items = useMemo(() => (list.data?.items ?? []).filter((item) => item.key.includes(filter.trim().toLowerCase())), [list.data, filter]);
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const current = list.data?.items.find((item) => item.key === selected) ?? null;
  return (
    <section className="stack" data-testid="texts">
      {current && (
        <>
          <button type="button" className="button ghost" onClick={() => setSelected(null)} data-testid="all-texts">
            <Icon name="back" className="flip-rtl" /> {t("texts.all")}
          </button>
          <Editor key={current.key} item={current} languages={list.data?.languages ?? []} onSaved={() => { list.reload(); toast(t("texts.live")); }} />
        </>
      )}
      {!current && (
        <>
          <label className="search">
            <Icon name="search" />
            <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={t("texts.filter")} aria-label={t("texts.filter")} />
          </label>
          {items.length === 0 ? (
            <Empty icon="chat" title={t("texts.none")} />
          ) : (
            <ul className="rows">
              {items.map((item) => (
                <li key={item.key} className="row-item">
                  <button type="button" className="plain-button row between spacer" onClick={() => { setSelected(item.key); window.scrollTo({ top: 0 }); }} data-testid="text-key" data-key={item.key}>
                    <span className="stack tight">
                      <span className="mono small">{item.key}</span>
                      <span className="muted small ellipsis">{item.defaults.en}</span>
                    </span>
                    {Object.keys(item.overrides).length > 0 && <span className="badge">{t("texts.custom")}</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
