/** VIP packages (name, perks, Stars per 30 days, an optional private channel) and their
 * subscribers with status. */

import { useState, type FormEvent } from "react";
import * as content from "../../api/content";
import type { PackageDraft } from "../../api/content";
import { useI18n } from "../../i18n";
import { Modal } from "../../ui/Modal";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useMainButton } from "../../ui/buttons";
import { useResource } from "../../ui/useResource";
import { NumberField } from "./common";
import { GroupPicker } from "./GroupPicker";
import "./creator.css";

const EMPTY: PackageDraft = { name: "", description: "", perks: [], price_stars: 100, channel_chat_id: null };

function PackageForm({ onDone, onClose }: { onDone: () => void; onClose: () => void }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(EMPTY);
  const [perks, setPerks] = useState("");
  const { busy, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run("create", () => content.createPackage({ ...draft, perks: perks.split("\n").map((p) => p.trim()).filter(Boolean) }), t("vipadmin.created")).then((pkg) => {
      if (!pkg) return;
      onDone();
      onClose();
    });
  };
  return (
    <Modal title={t("vipadmin.new")} onClose={onClose} testId="package-form">
      <form className="stack" onSubmit={submit}>
        <label className="field">
          <span>{t("vipadmin.name")}</span>
          <input required maxLength={64} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} name="name" />
        </label>
        <label className="field">
          <span>{t("vipadmin.description")}</span>
          <textarea rows={2} maxLength={1000} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
        </label>
        <label className="field">
          <span>{t("vipadmin.perks")}</span>
          <textarea rows={3} value={perks} onChange={(e) => setPerks(e.target.value)} placeholder={t("vipadmin.perks_hint")} />
        </label>
        <NumberField name="price" label={t("vipadmin.price")} value={draft.price_stars} min={1} max={10000} required onChange={(v) => setDraft({ ...draft, price_stars: v ?? 0 })} />
        <GroupPicker value={draft.channel_chat_id} onPick={(chatId) => setDraft({ ...draft, channel_chat_id: chatId })} testId="package-channel-pick" />
        <NumberField label={t("vipadmin.channel")} value={draft.channel_chat_id} max={-1} onChange={(v) => setDraft({ ...draft, channel_chat_id: v })} />
        <span className="muted small">{t("vipadmin.channel_hint")}</span>
        <div className="row end">
          <button type="submit" className="button primary" disabled={busy !== null}>
            {t("drive.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Subscribers() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => content.subscribers(null), []);
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const items = list.data?.items ?? [];
  if (!items.length) return <Empty icon="users" title={t("vipadmin.no_subscribers")} />;
  return (
    <ul className="rows" data-testid="subscribers">
      {items.map((sub) => (
        <li key={sub.subscription_id} className="row-item">
          <span className="stack tight">
            <strong>
              {sub.first_name} {sub.username && <span className="muted">@{sub.username}</span>}
            </strong>
            <span className="muted small">{t("vip.until", { date: i18n.date(sub.period_end) })}</span>
          </span>
          <span className={`badge badge-${sub.status}`}>{t(`vipadmin.status_${sub.status}` as "vipadmin.status_active")}</span>
        </li>
      ))}
    </ul>
  );
}

export default function VipAdminScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => content.packages(), []);
  const [creating, setCreating] = useState(false);
  const { busy, run } = useAction();
  useMainButton({ text: t("vipadmin.new"), onClick: () => setCreating(true) });
  return (
    <section className="stack" data-testid="vip-admin">
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorView error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty icon="crown" title={t("vipadmin.none")} />
      ) : (
        <ul className="rows" data-testid="packages">
          {list.data.items.map((pkg) => (
            <li key={pkg.id} className="row-item" data-testid="package">
              <span className="stack tight">
                <strong>
                  {pkg.name} {!pkg.is_active && <span className="badge">{t("vipadmin.inactive")}</span>}
                </strong>
                <span className="muted small">
                  ★{i18n.number(pkg.price_stars)} · {t("vipadmin.subscribers", { count: i18n.number(pkg.subscribers.active ?? 0) })}
                </span>
              </span>
              {pkg.is_active && (
                <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => window.confirm(t("vipadmin.stop_confirm")) && void run("stop", () => content.deactivatePackage(pkg.id)).then(list.reload)}>
                  {t("vipadmin.stop")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <h2 className="section-title">{t("vipadmin.subscribers_title")}</h2>
      <Subscribers />
      {creating && <PackageForm onDone={list.reload} onClose={() => setCreating(false)} />}
    </section>
  );
}
