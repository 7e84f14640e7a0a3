/** The creator panel's first screen: key numbers, the bot's status, recent activity, and the
 * sections of the panel. */

import { useEffect } from "react";
import * as creator from "../../api/creator";
import { markInteractive } from "../../app/perf";
import { Link } from "../../app/router";
import { useI18n, type Key } from "../../i18n";
import { Icon } from "../../ui/icons";
import { ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";
import { SECTIONS, SectionIcon, Stat, Stats } from "./common";
import { EVENT_KEYS } from "./common";
import "./creator.css";

function BotStatus({ bot }: { bot: creator.BotStatus }) {
  const { t, number } = useI18n();
  const healthy = bot.bot_active && bot.tenant_active && bot.webhook?.url_matches && !bot.webhook.last_error_message;
  return (
    <div className="card stack tight" data-testid="bot-status">
      <div className="row between">
        <strong>
          <bdi>@{bot.username}</bdi>
        </strong>
        <span className={healthy ? "badge badge-succeeded" : "badge badge-failed"}>{healthy ? t("panel.bot_ok") : t("panel.bot_problem")}</span>
      </div>
      {!bot.bot_active && <span className="error-text">{t("panel.bot_inactive")}</span>}
      {bot.webhook && !bot.webhook.url_matches && <span className="error-text">{t("panel.webhook_elsewhere")}</span>}
      {bot.webhook?.last_error_message && <span className="error-text">{bot.webhook.last_error_message}</span>}
      {bot.webhook_error && <span className="error-text">{bot.webhook_error}</span>}
      {bot.webhook && <span className="muted small">{t("panel.pending_updates", { count: number(bot.webhook.pending_update_count) })}</span>}
    </div>
  );
}

function Dashboard() {
  const i18n = useI18n();
  const { t } = i18n;
  const data = useResource(() => creator.dashboard(), []);
  useEffect(() => {
    if (data.data) markInteractive();
  }, [data.data]);
  if (data.loading && !data.data) return <Loading />;
  if (data.error) return <ErrorView error={data.error} onRetry={data.reload} />;
  const d = data.data;
  if (!d) return null;
  return (
    <div className="stack" data-testid="dashboard">
      <BotStatus bot={d.bot} />
      <Stats>
        <Stat label={t("stats.total_users")} value={d.last_7_days.total_users} testId="kpi-users" />
        <Stat label={t("stats.new_users")} value={d.today.new_users} hint={t("panel.today")} />
        <Stat label={t("stats.active_today")} value={d.today.active_today} />
        <Stat label={t("stats.revenue")} value={d.last_7_days.revenue} hint={t("panel.last_7")} />
        <Stat label={t("stats.jobs")} value={d.last_7_days.jobs} hint={t("panel.last_7")} />
        <Stat label={t("panel.platform_balance")} value={d.platform_balance} />
      </Stats>
      {d.pending_submissions > 0 && (
        <Link to="/creator/tasks" className="card row between notice">
          <span>{t("panel.pending_submissions", { count: i18n.number(d.pending_submissions) })}</span>
          <Icon name="forward" className="flip-rtl" />
        </Link>
      )}
      {d.recent.length > 0 && (
        <>
          <h2 className="section-title">{t("panel.recent")}</h2>
          <ul className="rows" data-testid="recent">
            {d.recent.slice(0, 8).map((event, index) => (
              <li key={`${event.at}-${index}`} className="row-item">
                <span>{EVENT_KEYS[event.kind] ? t(EVENT_KEYS[event.kind] as Key) : event.kind}</span>
                <span className="muted small">{i18n.date(event.at)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export default function PanelScreen() {
  const { t } = useI18n();
  return (
    <section className="panel stack">
      <Dashboard />
      <nav className="sections" aria-label={t("creator.sections")} data-testid="panel-sections">
        {SECTIONS.map((section) => (
          <Link key={section.path} to={section.path} className="section-link" data-testid={section.testId}>
            <SectionIcon name={section.icon} />
            <span>{t(section.label)}</span>
          </Link>
        ))}
      </nav>
    </section>
  );
}
