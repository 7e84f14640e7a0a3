/** Who runs the bot: the owner and co-admins (added by Telegram user id; the owner manages
 * them). */

import { useState, type FormEvent } from "react";
import * as creator from "../../api/creator";
import { useI18n } from "../../i18n";
import { ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { NumberField } from "./common";
import "./creator.css";

export default function AdminsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => creator.admins(), []);
  const me = useResource(() => creator.creatorMe(), []);
  const [id, setId] = useState<number | null>(null);
  const { busy, run } = useAction();
  const owner = me.data?.role === "owner";
  const add = (event: FormEvent) => {
    event.preventDefault();
    if (!id) return;
    void run("add", () => creator.addAdmin(id), t("admins.added")).then((admin) => {
      if (!admin) return;
      setId(null);
      list.reload();
    });
  };
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  return (
    <section className="stack" data-testid="admins">
      <ul className="rows">
        {list.data?.items.map((admin) => (
          <li key={admin.telegram_id} className="row-item" data-testid="admin">
            <span className="stack tight">
              <bdi className="mono">{admin.telegram_id}</bdi>
              <span className="muted small">
                {admin.role === "owner" ? t("admins.owner") : t("admins.admin")}
                {admin.added_at ? ` · ${i18n.date(admin.added_at)}` : ""}
              </span>
            </span>
            {owner && admin.role !== "owner" && (
              <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => window.confirm(t("admins.remove_confirm")) && void run("remove", () => creator.removeAdmin(admin.telegram_id), t("admins.removed")).then(list.reload)} data-testid="remove-admin">
                {t("admins.remove")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {owner ? (
        <form className="card stack" onSubmit={add}>
          <NumberField name="telegram_id" label={t("admins.telegram_id")} value={id} min={1} required onChange={setId} />
          <span className="muted small">{t("admins.hint")}</span>
          <div className="row end">
            <button type="submit" className="button primary" disabled={busy !== null} data-testid="add-admin">
              {t("admins.add")}
            </button>
          </div>
        </form>
      ) : (
        <span className="muted">{t("admins.owner_only")}</span>
      )}
    </section>
  );
}
