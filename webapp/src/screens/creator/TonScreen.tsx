/** TON earnings after the platform fee, payouts to the owner's linked wallet, and the TON
 * prices of what the bot sells. */

import { useState, type FormEvent } from "react";
import * as ton from "../../api/ton";
import type { TonItemKind } from "../../api/ton";
import { Link } from "../../app/router";
import { useI18n } from "../../i18n";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { Stat, Stats } from "./common";
import "./creator.css";

function Prices() {
  const { t } = useI18n();
  const list = useResource(() => ton.creatorTonPrices(), []);
  const [kind, setKind] = useState<TonItemKind>("ppv");
  const [item, setItem] = useState("");
  const [amount, setAmount] = useState("");
  const { busy, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run("price", () => ton.setTonPrice(kind, Number(item), amount.trim() || null), t("tonadmin.price_saved")).then(list.reload);
  };
  return (
    <div className="card stack" data-testid="ton-prices">
      {list.data?.items.length ? (
        <ul className="rows">
          {list.data.items.map((price) => (
            <li key={`${price.kind}:${price.item_id}`} className="row-item">
              <span>
                {t(`tonadmin.kind_${price.kind}`)} #{price.item_id}
              </span>
              <span className="row">
                <bdi>{price.amount_ton} TON</bdi>
                <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => void run("off", () => ton.setTonPrice(price.kind, price.item_id, null)).then(list.reload)}>
                  {t("tonadmin.off_sale")}
                </button>
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <span className="muted">{t("tonadmin.no_prices")}</span>
      )}
      <form className="row wrap bottom" onSubmit={submit}>
        <select value={kind} onChange={(e) => setKind(e.target.value as TonItemKind)} aria-label={t("tonadmin.kind")}>
          {(["ppv", "vip", "credits"] as const).map((k) => (
            <option key={k} value={k}>
              {t(`tonadmin.kind_${k}`)}
            </option>
          ))}
        </select>
        <input type="number" min={1} required value={item} onChange={(e) => setItem(e.target.value)} placeholder={t("tonadmin.item_id")} aria-label={t("tonadmin.item_id")} className="price-input" />
        <input inputMode="decimal" required pattern="[0-9]+([.][0-9]{1,9})?" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="1.5" aria-label={t("tonadmin.amount")} className="price-input" />
        <button type="submit" className="button" disabled={busy !== null}>
          {t("tonadmin.set_price")}
        </button>
      </form>
    </div>
  );
}

export default function TonScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const earnings = useResource(() => ton.earnings(), []);
  const payouts = useResource(() => ton.payouts(), []);
  const [amount, setAmount] = useState("");
  const { busy, run } = useAction();
  const request = (event: FormEvent) => {
    event.preventDefault();
    void run("payout", () => ton.requestPayout(amount.trim() || null), t("tonadmin.payout_requested")).then((p) => {
      if (!p) return;
      setAmount("");
      earnings.reload();
      payouts.reload();
    });
  };
  const e = earnings.data;
  return (
    <section className="stack" data-testid="ton-admin">
      {earnings.loading && !e ? (
        <Loading />
      ) : earnings.error ? (
        <ErrorView error={earnings.error} onRetry={earnings.reload} />
      ) : e ? (
        <>
          <Stats>
            <Stat label={t("tonadmin.available")} value={`${e.available_ton} TON`} testId="ton-available" />
            <Stat label={t("tonadmin.net")} value={`${ton.nanoToTon(e.net)} TON`} hint={t("tonadmin.fee", { percent: i18n.number(e.fee_bps / 100) })} />
            <Stat label={t("tonadmin.paid_out")} value={`${ton.nanoToTon(e.paid_out)} TON`} />
            <Stat label={t("tonadmin.invoices")} value={e.invoices} />
          </Stats>
          <form className="card stack" onSubmit={request}>
            <label className="field">
              <span>{t("tonadmin.payout_amount")}</span>
              <input inputMode="decimal" pattern="[0-9]+([.][0-9]{1,9})?" value={amount} onChange={(ev) => setAmount(ev.target.value)} placeholder={e.available_ton} />
            </label>
            <span className="muted small">
              {t("tonadmin.payout_hint", { min: ton.nanoToTon(e.payout_min), cap: ton.nanoToTon(e.daily_cap) })} <Link to="/wallet">{t("tonadmin.link_wallet")}</Link>
            </span>
            <div className="row end">
              <button type="submit" className="button primary" disabled={busy !== null} data-testid="request-payout">
                {t("tonadmin.request_payout")}
              </button>
            </div>
          </form>
        </>
      ) : null}
      <h2 className="section-title">{t("tonadmin.payouts")}</h2>
      {payouts.error ? (
        <ErrorView error={payouts.error} onRetry={payouts.reload} />
      ) : !payouts.data ? (
        <Loading />
      ) : payouts.data.items.length === 0 ? (
        <Empty icon="ton" title={t("tonadmin.no_payouts")} />
      ) : (
        <ul className="rows">
          {payouts.data.items.map((p) => (
            <li key={p.id} className="row-item">
              <span className="stack tight">
                <bdi>{p.amount_ton} TON</bdi>
                <span className="muted small">{i18n.date(p.created_at)}</span>
                {p.failure && <span className="error-text small">{p.failure}</span>}
              </span>
              <span className={`badge badge-${p.status}`}>{t(`tonadmin.status_${p.status}`)}</span>
            </li>
          ))}
        </ul>
      )}
      <h2 className="section-title">{t("tonadmin.prices")}</h2>
      <Prices />
    </section>
  );
}
