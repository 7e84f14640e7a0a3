/** The plan and its limits, each with a usage bar where the platform measures it. */

import * as creator from "../../api/creator";
import type { Limit } from "../../api/creator";
import { useI18n } from "../../i18n";
import { ErrorView, Loading, ProgressBar } from "../../ui/states";
import { useResource } from "../../ui/useResource";
import { Stat, Stats } from "./common";
import "./creator.css";

function LimitRow(props: { label: string; limit: Limit; format: (n: number) => string; testId: string }) {
  const { t } = useI18n();
  const { limit, used } = props.limit;
  const share = limit && used !== null ? (used / limit) * 100 : 0;
  return (
    <li className="limit stack tight" data-testid={props.testId}>
      <div className="row between">
        <span>{props.label}</span>
        <span className="muted small">
          <bdi>
            {used !== null ? props.format(used) : "—"} / {limit === null ? t("plan.unlimited") : props.format(limit)}
          </bdi>
        </span>
      </div>
      {limit !== null && used !== null && <ProgressBar value={share} label={props.label} testId={`${props.testId}-bar`} />}
      {share >= 90 && <span className="error-text small">{t("plan.almost_full")}</span>}
    </li>
  );
}

export default function PlanScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const plan = useResource(() => creator.plan(), []);
  if (plan.loading && !plan.data) return <Loading />;
  if (plan.error) return <ErrorView error={plan.error} onRetry={plan.reload} />;
  const p = plan.data;
  if (!p) return null;
  return (
    <section className="stack" data-testid="plan">
      <div className="card stack tight">
        <strong className="plan-name">{p.name}</strong>
        {p.period_end && <span className="muted small">{t("plan.renews", { date: i18n.date(p.period_end) })}</span>}
        {p.expired_at && <span className="error-text">{t("plan.expired", { date: i18n.date(p.expired_at) })}</span>}
      </div>
      <ul className="card limits stack">
        <LimitRow label={t("plan.storage")} limit={p.storage_bytes} format={i18n.bytes} testId="limit-storage" />
        <LimitRow label={t("plan.messages")} limit={p.broadcast_messages_per_day} format={i18n.number} testId="limit-messages" />
        <LimitRow label={t("plan.assistant")} limit={p.assistant_messages_per_day} format={i18n.number} testId="limit-assistant" />
        <LimitRow label={t("plan.groups")} limit={p.groups} format={i18n.number} testId="limit-groups" />
      </ul>
      <Stats>
        <Stat label={t("plan.monthly_credits")} value={p.monthly_credits} />
        <Stat label={t("panel.platform_balance")} value={p.platform_balance} />
        <Stat label={t("plan.api")} value={p.api_access ? t("plan.yes") : t("plan.no")} />
      </Stats>
    </section>
  );
}
