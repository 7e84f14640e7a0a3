/** A picker of the chats the bot is in, for forms that take a channel or group id (VIP
 * package channel, join-channel task); typing an id stays possible beside it. */

import * as groupsApi from "../../api/groups";
import { useI18n, type Key } from "../../i18n";
import { useResource } from "../../ui/useResource";

export const TYPE_KEYS: Record<groupsApi.ChatType, Key> = {
  group: "groups.type_group",
  supergroup: "groups.type_supergroup",
  channel: "groups.type_channel",
};

export function GroupPicker(props: { value: number | string | null; onPick: (chatId: number) => void; testId?: string }) {
  const { t } = useI18n();
  const list = useResource(() => groupsApi.groups(), []);
  const present = (list.data?.items ?? []).filter(groupsApi.isPresent);
  if (present.length === 0) return null;
  const current = present.some((g) => String(g.chat_id) === String(props.value ?? "")) ? String(props.value) : "";
  return (
    <label className="field">
      <span>{t("groups.pick")}</span>
      <select value={current} onChange={(event) => event.target.value && props.onPick(Number(event.target.value))} data-testid={props.testId}>
        <option value="">{t("groups.pick_none")}</option>
        {present.map((group) => (
          <option key={group.id} value={group.chat_id}>
            {group.title} · {t(TYPE_KEYS[group.type])}
            {group.bot_status === "administrator" ? "" : ` · ${t("groups.not_admin")}`}
          </option>
        ))}
      </select>
    </label>
  );
}
