/** The tool store: categories, search, favourites; each tool opens its page. */

import { useEffect, useState } from "react";
import * as catalog from "../../api/catalog";
import type { Category, ToolOut } from "../../api/types";
import { markInteractive } from "../../app/perf";
import { Link } from "../../app/router";
import { useI18n, type Key } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";
import { PriceTag } from "./price";
import "./store.css";

export const CATEGORY_KEYS: Record<Category, Key> = {
  image: "category.image",
  video: "category.video",
  audio: "category.audio",
  speech: "category.speech",
  text: "category.text",
  "3d": "category.3d",
};

export function FavouriteButton(props: { tool: ToolOut; onChange: (favourite: boolean) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const on = props.tool.favourite;
  return (
    <button
      type="button"
      className={on ? "icon-button favourite on" : "icon-button favourite"}
      aria-pressed={on}
      aria-label={on ? t("store.unfavourite") : t("store.favourite")}
      data-testid="favourite"
      onClick={async (event) => {
        event.preventDefault();
        event.stopPropagation();
        telegram.impact("light");
        props.onChange(!on);
        try {
          await catalog.setFavourite(props.tool.slug, !on);
        } catch (error) {
          props.onChange(on);
          toast(errorMessage(i18n, error), "error");
        }
      }}
    >
      <Icon name="star" fill={on ? "currentColor" : undefined} />
    </button>
  );
}

export default function StoreScreen() {
  const { t } = useI18n();
  const [category, setCategory] = useState<Category | null>(null);
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  const [favourites, setFavourites] = useState(false);
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(text.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [text]);
  const categories = useResource(() => catalog.categories(), []);
  const tools = useResource((signal) => catalog.tools(category, q, favourites, signal), [category, q, favourites]);
  useEffect(() => {
    if (tools.data) markInteractive();
  }, [tools.data]);

  const setFavourite = (slug: string, favourite: boolean) =>
    tools.setData((list) => list?.map((tool) => (tool.slug === slug ? { ...tool, favourite } : tool)));

  return (
    <section className="store">
      <label className="search">
        <Icon name="search" />
        <input
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={t("store.search")}
          aria-label={t("store.search")}
        />
      </label>
      <div className="chips" role="tablist" aria-label={t("store.categories")}>
        <button type="button" role="tab" aria-selected={!category && !favourites} className="chip" onClick={() => { setCategory(null); setFavourites(false); }}>
          {t("store.all")}
        </button>
        <button type="button" role="tab" aria-selected={favourites} className="chip" onClick={() => setFavourites((v) => !v)}>
          <Icon name="star" /> {t("store.favourites")}
        </button>
        {(categories.data ?? []).map((item) => (
          <button
            key={item.category}
            type="button"
            role="tab"
            aria-selected={category === item.category}
            className="chip"
            data-testid={`category-${item.category}`}
            onClick={() => {
              telegram.select();
              setCategory(category === item.category ? null : item.category);
            }}
          >
            {t(CATEGORY_KEYS[item.category])} <span className="muted">{item.tools}</span>
          </button>
        ))}
      </div>
      {tools.loading && !tools.data ? (
        <Loading />
      ) : tools.error ? (
        <ErrorView error={tools.error} onRetry={tools.reload} />
      ) : !tools.data?.length ? (
        <Empty icon="store" title={favourites ? t("store.no_favourites") : t("store.no_tools")} />
      ) : (
        <ul className="tool-grid" data-testid="tools">
          {tools.data.map((tool) => (
            <li key={tool.slug} className="tool-card" data-testid="tool" data-slug={tool.slug}>
              <Link to={`/store/${tool.slug}`} className="tool-link">
                <span className="tool-category muted">{t(CATEGORY_KEYS[tool.category])}</span>
                <strong className="tool-name">{tool.name}</strong>
                <span className="tool-description">{tool.description}</span>
                <PriceTag tool={tool} />
              </Link>
              <FavouriteButton tool={tool} onChange={(on) => setFavourite(tool.slug, on)} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
