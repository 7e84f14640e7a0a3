/** Credits: the balance, packs bought with Telegram Stars (openInvoice), and the history. */

import { lazy, Suspense, useEffect, useState } from "react";
import * as wallet from "../../api/wallet";
import type { EntryOut, PackOut } from "../../api/types";
import { markInteractive } from "../../app/perf";
import { useI18n, type Key } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useMore } from "../../ui/useMore";
import { useResource } from "../../ui/useResource";
import { PayWithTon } from "../../ton/PayWithTon";
import "./wallet.css";

const TonWallet = lazy(() => import("./TonWallet"));

const KIND_KEYS: Record<EntryOut["kind"], Key> = {
  credit: "wallet.kind_credit",
  debit: "wallet.kind_debit",
  reserve: "wallet.kind_reserve",
  capture: "wallet.kind_capture",
  release: "wallet.kind_release",
};

/** After a payment the bot credits the wallet when Telegram confirms it: poll briefly. */
const REFRESH_AFTER_PAY_MS = [1000, 2500, 5000, 10000];

function Packs({ onBought }: { onBought: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const packs = useResource(() => wallet.packs(), []);
  const [busy, setBusy] = useState<number | null>(null);
  const buy = async (pack: PackOut) => {
    setBusy(pack.id);
    telegram.impact("light");
    try {
      const { invoice_link } = await wallet.invoice(pack.id);
      const status = await telegram.openInvoice(invoice_link);
      if (status === "paid") {
        telegram.notify("success");
        toast(t("wallet.paid"), "success");
      } else if (status === "opened") {
        toast(t("wallet.pay_in_telegram"));
      } else if (status === "failed") {
        telegram.notify("error");
        toast(t("wallet.pay_failed"), "error");
      }
      if (status === "paid" || status === "opened" || status === "pending") onBought();
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    } finally {
      setBusy(null);
    }
  };
  if (packs.loading) return <Loading />;
  if (packs.error) return <ErrorView error={packs.error} onRetry={packs.reload} />;
  const list = packs.data?.packs ?? [];
  if (!list.length) return <Empty icon="wallet" title={t("wallet.no_packs")} />;
  return (
    <ul className="packs" data-testid="packs">
      {list.map((pack) => (
        <li key={pack.id} className="pack">
          <div className="stack tight">
            <strong>{pack.title}</strong>
            {pack.bonus > 0 && <span className="bonus">{t("wallet.bonus", { bonus: i18n.number(pack.bonus) })}</span>}
          </div>
          <div className="row end">
            <PayWithTon kind="credits" itemId={pack.id} onPaid={onBought} />
            <button type="button" className="button primary" disabled={busy !== null} onClick={() => void buy(pack)} data-testid="buy">
              <Icon name="star" fill="currentColor" />
              <span className="sr-only">{t("wallet.stars")}</span>
              {i18n.number(pack.stars)}
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}

function History({ version }: { version: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const page = useResource((signal) => wallet.history(null, signal), [version]);
  const { more, loadMore } = useMore(
    page,
    (cursor) => wallet.history(cursor),
    (current, next) => ({ entries: [...current.entries, ...next.entries], next_cursor: next.next_cursor }),
  );
  if (page.loading && !page.data) return <Loading />;
  if (page.error) return <ErrorView error={page.error} onRetry={page.reload} />;
  const entries = page.data?.entries ?? [];
  if (!entries.length) return <Empty icon="wallet" title={t("wallet.no_history")} />;
  return (
    <>
      <ul className="history" data-testid="history">
        {entries.map((entry) => {
          const change = entry.amount !== 0 ? entry.amount : -entry.reserved_delta;
          return (
            <li key={entry.id} className="entry" data-testid="entry">
              <div className="stack tight">
                <strong>{t(KIND_KEYS[entry.kind])}</strong>
                <span className="muted small">
                  {[entry.tool, entry.reason, i18n.date(entry.created_at)].filter(Boolean).join(" · ")}
                </span>
              </div>
              <div className="stack tight end-text">
                <span className={change > 0 ? "amount plus" : change < 0 ? "amount minus" : "amount"}>
                  <bdi>{change > 0 ? "+" : ""}{i18n.number(change)}</bdi>
                </span>
                <span className="muted small">{t("wallet.after", { balance: i18n.number(entry.balance_after) })}</span>
              </div>
            </li>
          );
        })}
      </ul>
      {page.data?.next_cursor && (
        <button type="button" className="button ghost wide" disabled={more} onClick={() => void loadMore()}>
          {more ? t("common.loading") : t("common.more")}
        </button>
      )}
    </>
  );
}

export default function WalletScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const [version, setVersion] = useState(0);
  const balance = useResource(() => wallet.wallet(), [version]);
  useEffect(() => {
    if (balance.data) markInteractive();
  }, [balance.data]);
  const refreshSoon = () => {
    for (const delay of REFRESH_AFTER_PAY_MS) window.setTimeout(() => setVersion((v) => v + 1), delay);
  };
  useEffect(() => {
    const refresh = () => document.visibilityState === "visible" && setVersion((v) => v + 1);
    document.addEventListener("visibilitychange", refresh);
    return () => document.removeEventListener("visibilitychange", refresh);
  }, []);
  return (
    <section className="wallet">
      <div className="balance-card" data-testid="balance-card">
        {balance.error ? (
          <ErrorView error={balance.error} onRetry={balance.reload} />
        ) : !balance.data ? (
          <Loading />
        ) : (
          <>
            <span className="muted">{t("wallet.balance")}</span>
            <strong className="balance" data-testid="balance">
              {i18n.number(balance.data.available)}
            </strong>
            <span className="muted small">
              {balance.data.reserved > 0
                ? t("wallet.reserved", { reserved: i18n.number(balance.data.reserved), balance: i18n.number(balance.data.balance) })
                : t("wallet.credits")}
            </span>
          </>
        )}
      </div>
      <h2 className="section-title">{t("ton.title")}</h2>
      <Suspense fallback={<Loading />}>
        <TonWallet />
      </Suspense>
      <h2 className="section-title">{t("wallet.buy")}</h2>
      <Packs onBought={refreshSoon} />
      <h2 className="section-title">{t("wallet.history")}</h2>
      <History version={version} />
    </section>
  );
}
