/** The groups, supergroups and channels the bot is in: usage against the plan, the bot's
 * status and rights there (with a warning where a feature needs a right the bot lacks),
 * refresh from Telegram, and leave. */

import * as groupsApi from "../../api/groups";
import type { ManagedGroup } from "../../api/groups";
import { useI18n, type Key } from "../../i18n";
import { ErrorView, Loading, ProgressBar } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { TYPE_KEYS } from "./GroupPicker";
import "./creator.css";

const STATUS_KEYS: Record<groupsApi.BotStatus, Key> = {
  member: "groups.status_member",
  administrator: "groups.status_administrator",
  left: "groups.status_left",
  kicked: "groups.status_kicked",
};

/** What the bot lacks, as the creator reads it. */
const MISSING_KEYS: Record<string, Key> = {
  administrator: "groups.missing_admin",
  can_invite_users: "groups.missing_invite",
  can_restrict_members: "groups.missing_restrict",
  can_post_messages: "groups.missing_post",
};

function GroupRow(props: { group: ManagedGroup; busy: boolean; onRefresh: () => void; onLeave: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { group } = props;
  const present = groupsApi.isPresent(group);
  return (
    <li className="card stack tight" data-testid="group">
      <div className="row between">
        <strong>
          <bdi>{group.title || group.chat_id}</bdi>
        </strong>
        <span className={present ? "badge badge-active" : "badge badge-cancelled"} data-testid="group-status">
          {t(STATUS_KEYS[group.bot_status])}
        </span>
      </div>
      <span className="muted small">
        {t(TYPE_KEYS[group.type])}
        {group.username && (
          <>
            {" · "}
            <bdi>@{group.username}</bdi>
          </>
        )}
        {group.member_count !== null && ` · ${t("groups.members", { count: i18n.number(group.member_count) })}`}
      </span>
      {group.refused && (
        <span className="error-text small" data-testid="group-refused">
          {t("groups.refused", { date: i18n.date(group.refused_at ?? group.updated_at) })}
        </span>
      )}
      {present && group.missing.length > 0 && (
        <div className="warning" role="alert" data-testid="group-warning">
          <span>
            {t("groups.needs", { features: group.used_by.map((f) => t(f === "vip" ? "groups.used_vip" : "groups.used_task")).join(", ") })}{" "}
            {group.missing.map((name) => (MISSING_KEYS[name] ? t(MISSING_KEYS[name]) : name)).join(", ")}
          </span>
        </div>
      )}
      <div className="row end">
        <button type="button" className="button ghost" disabled={props.busy} onClick={props.onRefresh} data-testid="group-refresh">
          {t("groups.refresh")}
        </button>
        {present && (
          <button type="button" className="button ghost danger" disabled={props.busy} onClick={props.onLeave} data-testid="group-leave">
            {t("groups.leave")}
          </button>
        )}
      </div>
    </li>
  );
}

export default function GroupsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => groupsApi.groups(), []);
  const { busy, run } = useAction();
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const data = list.data;
  if (!data) return null;
  const { limit, used } = data.usage;
  const refresh = (group: ManagedGroup) => void run(`refresh-${group.id}`, () => groupsApi.refreshGroup(group.id), t("groups.refreshed")).then(list.reload);
  const leave = (group: ManagedGroup) =>
    window.confirm(t("groups.leave_confirm", { title: group.title })) &&
    void run(`leave-${group.id}`, () => groupsApi.leaveGroup(group.id), t("groups.left")).then(list.reload);
  return (
    <section className="stack" data-testid="groups">
      <div className="card stack tight" data-testid="groups-usage">
        <div className="row between">
          <span>{t("groups.usage")}</span>
          <span className="muted small">
            <bdi>
              {i18n.number(used ?? 0)} / {limit === null ? t("plan.unlimited") : i18n.number(limit)}
            </bdi>
          </span>
        </div>
        {limit !== null && <ProgressBar value={((used ?? 0) / Math.max(limit, 1)) * 100} label={t("groups.usage")} testId="groups-usage-bar" />}
      </div>
      {data.items.length === 0 ? (
        <p className="muted" data-testid="groups-empty">
          {t("groups.empty")}
        </p>
      ) : (
        <ul className="stack group-list">
          {data.items.map((group) => (
            <GroupRow key={group.id} group={group} busy={busy !== null} onRefresh={() => refresh(group)} onLeave={() => leave(group)} />
          ))}
        </ul>
      )}
      <p className="muted small">{t("groups.hint")}</p>
    </section>
  );
}
