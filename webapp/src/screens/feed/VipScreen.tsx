/** VIP: the creator's packages with perks and Stars price per 30 days, the fan's status in each
 * (active until, renews or not), subscribing (a Telegram subscription invoice) and cancelling. */

import * as content from "../../api/content";
import type { FanPackage } from "../../api/content";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { PayWithTon } from "../../ton/PayWithTon";
import { Icon } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { usePayResult } from "./FeedScreen";
import "./feed.css";

const REFRESH_AFTER_PAY_MS = [1000, 2500, 5000, 10000, 20000];

function Status({ pkg }: { pkg: FanPackage }) {
  const i18n = useI18n();
  const sub = pkg.subscription;
  if (!sub || !sub.is_open) return null;
  const date = i18n.date(sub.period_end);
  return (
    <span className={sub.renews ? "badge badge-succeeded" : "badge"} data-testid="vip-status">
      {sub.renews ? i18n.t("vip.renews", { date }) : i18n.t("vip.until", { date })}
    </span>
  );
}

export default function VipScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => content.vip(), []);
  const { busy, run } = useAction();
  const payResult = usePayResult("vip.pay_in_telegram");
  const refreshSoon = () => REFRESH_AFTER_PAY_MS.forEach((delay) => window.setTimeout(list.reload, delay));
  const subscribe = (pkg: FanPackage) =>
    run(`buy-${pkg.id}`, async () => {
      telegram.impact("light");
      const { invoice_link } = await content.vipInvoice(pkg.id);
      if (payResult(await telegram.openInvoice(invoice_link))) refreshSoon();
    });
  const cancel = (pkg: FanPackage) =>
    pkg.subscription &&
    window.confirm(t("vip.cancel_confirm", { date: i18n.date(pkg.subscription.period_end) })) &&
    run(`cancel-${pkg.id}`, async () => {
      const sub = await content.cancelVip(pkg.subscription?.id ?? 0);
      list.setData((current) => current && { packages: current.packages.map((p) => (p.id === pkg.id ? { ...p, subscription: sub } : p)) });
    }, t("vip.cancelled"));
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const packages = list.data?.packages ?? [];
  if (!packages.length) return <Empty icon="crown" title={t("vip.none")} />;
  return (
    <section className="vip stack" data-testid="vip">
      <p className="muted">{t("vip.intro")}</p>
      {packages.map((pkg) => (
        <article key={pkg.id} className="card vip-package stack" data-testid="vip-package">
          <header className="row between">
            <strong className="row">
              <Icon name="crown" /> {pkg.name}
            </strong>
            <Status pkg={pkg} />
          </header>
          {pkg.description && <p className="muted">{pkg.description}</p>}
          {pkg.perks.length > 0 && (
            <ul className="perks">
              {pkg.perks.map((perk) => (
                <li key={perk}>
                  <Icon name="check" /> {perk}
                </li>
              ))}
            </ul>
          )}
          <div className="row end wrap">
            {pkg.subscription?.renews && (
              <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => void cancel(pkg)} data-testid="vip-cancel">
                {t("vip.cancel")}
              </button>
            )}
            {!pkg.subscription?.is_open && (
              <>
                <PayWithTon kind="vip" itemId={pkg.id} onPaid={list.reload} />
                <button type="button" className="button primary" disabled={busy !== null} onClick={() => void subscribe(pkg)} data-testid="vip-subscribe">
                  {t("vip.subscribe")} · <Icon name="star" fill="currentColor" />
                  <span className="sr-only">{t("wallet.stars")}</span>
                  {t("vip.per_month", { stars: i18n.number(pkg.price_stars) })}
                </button>
              </>
            )}
          </div>
        </article>
      ))}
    </section>
  );
}
