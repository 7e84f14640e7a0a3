/** The bot's fans, newest first, searchable by name, @username or Telegram id. */

import { useState } from "react";
import * as creator from "../../api/creator";
import { Link } from "../../app/router";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";
import "./creator.css";

export default function UsersScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const list = useResource((signal) => creator.fans(query, null, signal), [query]);
  return (
    <section className="stack" data-testid="users">
      <form className="search" role="search" onSubmit={(e) => { e.preventDefault(); setQuery(q.trim()); }}>
        <Icon name="search" />
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} onBlur={() => setQuery(q.trim())} placeholder={t("users.search")} aria-label={t("users.search")} data-testid="user-search" />
      </form>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorView error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty icon="users" title={query ? t("users.no_results") : t("users.none")} />
      ) : (
        <ul className="rows" data-testid="user-rows">
          {list.data.items.map((fan) => (
            <li key={fan.id} className="row-item">
              <Link to={`/creator/users/${fan.id}`} className="row between spacer plain" data-testid="user-row">
                <span className="stack tight">
                  <strong>
                    {fan.first_name} {fan.last_name ?? ""}
                  </strong>
                  <span className="muted small">
                    {fan.username ? `@${fan.username} · ` : ""}
                    <bdi>{fan.telegram_id}</bdi>
                    {fan.is_blocked ? ` · ${t("users.blocked")}` : ""}
                  </span>
                </span>
                <span className="muted small">{t("users.balance", { credits: i18n.number(fan.balance) })}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
