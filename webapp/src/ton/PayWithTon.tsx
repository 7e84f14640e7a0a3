/** "Pay with TON" beside a Stars price, for items the creator also sells in TON. */

import { useEffect, useState } from "react";
import * as ton from "../api/ton";
import { useI18n } from "../i18n";
import { telegram } from "../telegram/webapp";
import { errorMessage } from "../ui/errors";
import { Icon } from "../ui/icons";
import { toast } from "../ui/toast";
import { ConnectCancelled, payWithTon } from "./tonconnect";

let prices: Promise<Map<string, ton.TonPrice>> | null = null;

const keyOf = (kind: string, id: number) => `${kind}:${id}`;

/** What this bot sells in TON, asked once per page (none when TON is not set up). */
export function tonPrices(): Promise<Map<string, ton.TonPrice>> {
  prices ??= ton
    .tonPrices()
    .then(({ items }) => new Map(items.map((price) => [keyOf(price.kind, price.item_id), price])))
    .catch(() => new Map());
  return prices;
}

export function useTonPrice(kind: ton.TonItemKind, itemId: number): ton.TonPrice | null {
  const [price, setPrice] = useState<ton.TonPrice | null>(null);
  useEffect(() => {
    let live = true;
    void tonPrices().then((found) => live && setPrice(found.get(keyOf(kind, itemId)) ?? null));
    return () => {
      live = false;
    };
  }, [kind, itemId]);
  return price;
}

export function PayWithTon(props: { kind: ton.TonItemKind; itemId: number; onPaid: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const price = useTonPrice(props.kind, props.itemId);
  const [busy, setBusy] = useState(false);
  if (!price) return null;
  const pay = async () => {
    setBusy(true);
    telegram.impact("light");
    try {
      const invoice = await payWithTon(i18n.lang, props.kind, props.itemId, () => toast(t("ton.sent")));
      if (invoice.status === "paid") {
        telegram.notify("success");
        toast(t("ton.paid"), "success");
        props.onPaid();
      } else if (invoice.status === "underpaid") {
        toast(t("ton.underpaid"), "error");
      } else {
        toast(t("ton.pending"));
      }
    } catch (error) {
      if (!(error instanceof ConnectCancelled)) toast(tonError(i18n, error), "error");
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button ton" disabled={busy} onClick={() => void pay()} data-testid="pay-ton">
      <Icon name="ton" />
      {t("ton.pay", { amount: price.amount_ton })}
    </button>
  );
}

/** The wallet's own refusal (the fan declined) reads better than a generic error. */
export function tonError(i18n: ReturnType<typeof useI18n>, error: unknown): string {
  const name = (error as { name?: string } | null)?.name ?? "";
  if (/Reject/i.test(name)) return i18n.t("ton.declined");
  return errorMessage(i18n, error);
}
