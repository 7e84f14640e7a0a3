/** One tool: what it does, its form, the price of this run, and Run (Telegram's MainButton). */

import { useEffect, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import * as catalog from "../../api/catalog";
import type { QuoteOut, ToolDetail } from "../../api/types";
import { navigate, useLocation, useParams } from "../../app/router";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { useMainButton } from "../../ui/buttons";
import { errorMessage } from "../../ui/errors";
import { ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";
import { PriceTag } from "./price";
import { SchemaForm, cleanValues, initialValues, type Values } from "./SchemaForm";
import { CATEGORY_KEYS, FavouriteButton } from "./StoreScreen";
import "./store.css";

function newKey(): string {
  return typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function useQuote(slug: string, values: Values): QuoteOut | null {
  const [quote, setQuote] = useState<QuoteOut | null>(null);
  const body = JSON.stringify(cleanValues(values));
  useEffect(() => {
    let live = true;
    const timer = window.setTimeout(() => {
      catalog
        .quote(slug, JSON.parse(body) as Values)
        .then((q) => live && setQuote(q))
        .catch(() => live && setQuote(null));
    }, 300);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [slug, body]);
  return quote;
}

function ToolForm({ tool, onFavourite }: { tool: ToolDetail; onFavourite: (on: boolean) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const location = useLocation();
  const prefill = (location.state?.prefill as Values | undefined) ?? {};
  const [values, setValues] = useState<Values>(() => initialValues(tool.params_schema, prefill));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [running, setRunning] = useState(false);
  const key = useRef(newKey());
  const quote = useQuote(tool.slug, values);

  const change = (next: Values) => {
    key.current = newKey(); // other values: another run, not a retry of the last one
    setErrors({});
    setValues(next);
  };

  const run = async () => {
    setRunning(true);
    try {
      const job = await catalog.run(tool.slug, cleanValues(values), key.current);
      telegram.notify("success");
      navigate(`/jobs/${job.id}`);
    } catch (error) {
      telegram.notify("error");
      if (error instanceof ApiError && error.status === 422) setErrors(error.fieldErrors());
      const buy =
        error instanceof ApiError && error.code === "insufficient_funds"
          ? { label: t("wallet.buy"), run: () => navigate("/wallet") }
          : undefined;
      toast(errorMessage(i18n, error), "error", buy);
    } finally {
      setRunning(false);
    }
  };

  const price = quote ? t("store.run_price", { price: i18n.number(quote.price) }) : t("store.run");
  useMainButton({ text: price, onClick: () => void run(), progress: running });

  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        void run();
      }}
    >
      <header className="tool-head">
        <div className="stack tight">
          <span className="muted">{t(CATEGORY_KEYS[tool.category])}</span>
          <h2 className="section-title" data-testid="tool-title">{tool.name}</h2>
          <PriceTag tool={tool} />
        </div>
        <FavouriteButton tool={tool} onChange={onFavourite} />
      </header>
      <p>{tool.description}</p>
      {tool.examples.length > 0 && (
        <div className="chips">
          <span className="muted">{t("store.examples")}</span>
          {tool.examples.map((example, index) => (
            <button key={index} type="button" className="chip" onClick={() => change({ ...values, ...example })}>
              {String(example.prompt ?? example.text ?? t("store.example", { n: index + 1 }))}
            </button>
          ))}
        </div>
      )}
      <SchemaForm schema={tool.params_schema} values={values} errors={errors} onChange={change} />
      {quote && (
        <p className="quote" data-testid="quote">
          {t("store.quote", { price: i18n.number(quote.price), units: i18n.number(quote.units) })}
        </p>
      )}
    </form>
  );
}

export default function ToolScreen() {
  const { slug = "" } = useParams();
  const tool = useResource(() => catalog.tool(slug), [slug]);
  if (tool.loading) return <Loading />;
  if (tool.error || !tool.data) return <ErrorView error={tool.error} onRetry={tool.reload} />;
  return (
    <section className="tool-page">
      <ToolForm
        tool={tool.data}
        onFavourite={(favourite) => tool.setData((current) => (current ? { ...current, favourite } : current))}
      />
    </section>
  );
}
