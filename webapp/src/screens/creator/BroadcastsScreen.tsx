/** Broadcasts: today's use of the plan's daily limit and every broadcast with its progress. */

import * as broadcasts from "../../api/broadcasts";
import { Link, navigate } from "../../app/router";
import { useI18n } from "../../i18n";
import { Empty, ErrorView, Loading, ProgressBar } from "../../ui/states";
import { useMainButton } from "../../ui/buttons";
import { useResource } from "../../ui/useResource";
import "./creator.css";

export default function BroadcastsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => broadcasts.list(), []);
  useMainButton({ text: t("broadcast.new"), onClick: () => navigate("/creator/broadcasts/new") });
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const data = list.data;
  if (!data) return null;
  return (
    <section className="stack" data-testid="broadcasts">
      <span className="muted small" data-testid="daily-use">
        {data.daily_limit === null
          ? t("broadcast.used_today", { used: i18n.number(data.used_today) })
          : t("broadcast.used_of", { used: i18n.number(data.used_today), limit: i18n.number(data.daily_limit) })}
      </span>
      {data.items.length === 0 ? (
        <Empty icon="send" title={t("broadcast.none")} />
      ) : (
        <ul className="rows">
          {data.items.map((item) => (
            <li key={item.id} className="row-item">
              <Link to={`/creator/broadcasts/${item.id}`} className="stack tight spacer plain">
                <span className="row between">
                  <span className="ellipsis">{item.text.replace(/<[^>]+>/g, "") || t("broadcast.media_only")}</span>
                  <span className={`badge badge-${item.status}`}>{t(`broadcast.status_${item.status}`)}</span>
                </span>
                {item.total > 0 && <ProgressBar value={(broadcasts.done(item) / item.total) * 100} />}
                <span className="muted small">{i18n.date(item.created_at)}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
