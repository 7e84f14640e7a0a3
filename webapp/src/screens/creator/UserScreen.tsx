/** One fan: who they are, their numbers and level, what happened with them, and their
 * conversation with the bot (the Messages tab). */

import { lazy, Suspense, useState } from "react";
import * as creator from "../../api/creator";
import { useParams } from "../../app/router";
import { useI18n, type Key } from "../../i18n";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";
import { Stat, Stats } from "./common";
import { EVENT_KEYS } from "./common";
import "./creator.css";

const FanMessages = lazy(() => import("./FanMessages"));
type Tab = "history" | "messages";

export default function UserScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const id = Number(useParams().id);
  const [tab, setTab] = useState<Tab>("history");
  const fan = useResource(() => creator.fan(id), [id]);
  const history = useResource(() => creator.fanHistory(id, null), [id]);
  if (fan.loading && !fan.data) return <Loading />;
  if (fan.error) return <ErrorView error={fan.error} onRetry={fan.reload} />;
  const f = fan.data;
  if (!f) return null;
  return (
    <section className="stack" data-testid="user-detail">
      <div className="card stack tight">
        <strong>
          {f.first_name} {f.last_name ?? ""}
        </strong>
        <span className="muted small">
          {f.username ? `@${f.username} · ` : ""}
          <bdi>{f.telegram_id}</bdi> · {f.language ?? "—"}
        </span>
        <span className="muted small">{t("users.joined", { date: i18n.date(f.created_at) })} · {t("users.seen", { date: i18n.date(f.last_seen_at) })}</span>
        {f.is_blocked && <span className="error-text">{t("users.blocked")}</span>}
      </div>
      <Stats>
        <Stat label={t("users.credits")} value={f.balance} />
        <Stat label={t("tasks.level_short")} value={`${f.level.number} · ${f.level.name}`} hint={t("tasks.xp", { xp: i18n.number(f.level.xp) })} />
        <Stat label={t("users.stars_paid")} value={f.stars_paid} />
        <Stat label={t("stats.jobs")} value={f.jobs} />
        <Stat label={t("users.referrals")} value={f.referrals} />
        <Stat label={t("stats.tasks_completed")} value={f.tasks_completed} />
      </Stats>
      <div className="chips" role="tablist">
        {(["history", "messages"] as const).map((name) => (
          <button key={name} type="button" role="tab" className="chip" aria-selected={tab === name} onClick={() => setTab(name)} data-testid={`tab-${name}`}>
            {t(name === "history" ? "users.history" : "users.messages")}
          </button>
        ))}
      </div>
      {tab === "messages" ? (
        <Suspense fallback={<Loading />}>
          <FanMessages userId={id} />
        </Suspense>
      ) : history.loading && !history.data ? (
        <Loading />
      ) : history.error ? (
        <ErrorView error={history.error} onRetry={history.reload} />
      ) : !history.data?.items.length ? (
        <Empty icon="list" title={t("users.no_history")} />
      ) : (
        <ul className="rows" data-testid="user-history">
          {history.data.items.map((event, index) => (
            <li key={`${event.at}-${index}`} className="row-item">
              <span className="stack tight">
                <span>{EVENT_KEYS[event.kind] ? t(EVENT_KEYS[event.kind] as Key) : event.kind}</span>
                <span className="muted small ellipsis">
                  {Object.entries(event.data)
                    .filter(([, v]) => v !== null && typeof v !== "object")
                    .slice(0, 3)
                    .map(([k, v]) => `${k}: ${String(v)}`)
                    .join(" · ")}
                </span>
              </span>
              <span className="muted small">{i18n.date(event.at)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
