/** The fan's TON wallet: linked through TON Connect with a verified proof, shown, unlinked.
 * A lazy chunk of its own: the wallet screen draws without waiting for it. */

import { useState } from "react";
import * as ton from "../../api/ton";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { ConnectCancelled, connectAndLink, disconnect } from "../../ton/tonconnect";
import { tonError } from "../../ton/PayWithTon";
import { Icon } from "../../ui/icons";
import { ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";

/** `UQAB…xyz1`: enough to recognise an address at a glance; the whole one is a tap away. */
export function shortAddress(address: string): string {
  return address.length > 16 ? `${address.slice(0, 6)}…${address.slice(-6)}` : address;
}

export default function TonWallet() {
  const i18n = useI18n();
  const { t } = i18n;
  const linked = useResource(() => ton.linkedWallet(), []);
  const [busy, setBusy] = useState(false);
  const [full, setFull] = useState(false);
  const connect = async () => {
    setBusy(true);
    telegram.impact("light");
    try {
      const wallet = await connectAndLink(i18n.lang);
      linked.setData(() => ({ wallet }));
      telegram.notify("success");
      toast(t("ton.linked"), "success");
    } catch (error) {
      if (!(error instanceof ConnectCancelled)) toast(tonError(i18n, error), "error");
    } finally {
      setBusy(false);
    }
  };
  const unlink = async () => {
    setBusy(true);
    try {
      await disconnect(i18n.lang);
      linked.setData(() => ({ wallet: null }));
      toast(t("ton.unlinked"));
    } catch (error) {
      toast(tonError(i18n, error), "error");
    } finally {
      setBusy(false);
    }
  };
  if (linked.loading && !linked.data) return <Loading />;
  if (linked.error) return <ErrorView error={linked.error} onRetry={linked.reload} />;
  const wallet = linked.data?.wallet ?? null;
  return (
    <div className="ton-wallet card" data-testid="ton-wallet">
      <div className="row">
        <Icon name="ton" className="ton-mark" />
        <div className="stack tight spacer">
          <strong>{t("ton.title")}</strong>
          {wallet ? (
            <button type="button" className="link address" onClick={() => setFull((v) => !v)} data-testid="ton-address">
              <bdi>{full ? wallet.address : shortAddress(wallet.address)}</bdi>
            </button>
          ) : (
            <span className="muted small">{t("ton.hint")}</span>
          )}
          {wallet && (
            <span className="muted small">
              {t("ton.linked_on", { date: i18n.date(wallet.linked_at) })}
              {wallet.wallet_version ? ` · ${wallet.wallet_version}` : ""}
            </span>
          )}
        </div>
        {wallet ? (
          <button type="button" className="button ghost danger" disabled={busy} onClick={() => void unlink()} data-testid="ton-disconnect">
            {t("ton.disconnect")}
          </button>
        ) : (
          <button type="button" className="button primary" disabled={busy} onClick={() => void connect()} data-testid="ton-connect">
            {busy ? <span className="spinner small" aria-hidden="true" /> : null}
            {t("ton.connect")}
          </button>
        )}
      </div>
    </div>
  );
}
