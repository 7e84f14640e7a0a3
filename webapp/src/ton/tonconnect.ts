/**
 * TON Connect through `@tonconnect/ui`, loaded only when a fan first touches TON (the library
 * is several times the app's own initial script, so it never enters the initial budget).
 *
 * Linking: our API issues a single-use payload first; the wallet signs it as `tonProof` while
 * connecting; the proof goes to `/ton/wallet` in the shape the backend expects, where it is
 * verified (domain, time, key from the stateInit). Paying: the invoice's TON Connect request
 * goes to `sendTransaction` unchanged; the credit comes from the chain, never from the answer.
 */

import type { ConnectedWallet, TonConnectUI } from "@tonconnect/ui";
import * as ton from "../api/ton";
import type { Lang } from "../i18n";

let instance: Promise<TonConnectUI> | null = null;

/** The one TonConnectUI of the page (it registers custom elements: one instance only). */
export function tonConnect(lang: Lang): Promise<TonConnectUI> {
  instance ??= Promise.all([
    import("@tonconnect/ui"),
    ton.connectWallets().then((found) => found.items, () => []), // extras are optional
  ]).then(([{ TonConnectUI }, extra]) => {
    const ui = new TonConnectUI({
      manifestUrl: `${window.location.origin}/tonconnect-manifest.json`,
      // The deployment's own wallets list (offline: the TON stand-in's test wallet) on top of
      // TON Connect UI's public one.
      walletsListConfiguration: {
        includeWallets: extra,
      },
      language: lang === "ru" ? "ru" : "en",
      actionsConfiguration: { returnStrategy: "back" },
      // nothing about our fans goes to third-party analytics
      analytics: { mode: "off" },
    });
    return ui;
  });
  return instance;
}

export class ConnectCancelled extends Error {
  constructor() {
    super("the wallet window was closed");
    this.name = "ConnectCancelled";
  }
}

/** The proof as our backend takes it, from the connected wallet's `tonProof` item. */
export function proofBody(wallet: ConnectedWallet): ton.ProofBody | null {
  const item = wallet.connectItems?.tonProof;
  if (!item || !("proof" in item)) return null;
  const { proof } = item;
  return {
    address: wallet.account.address,
    network: String(wallet.account.chain),
    public_key: wallet.account.publicKey ?? "",
    proof: {
      timestamp: proof.timestamp,
      domain: { lengthBytes: proof.domain.lengthBytes, value: proof.domain.value },
      signature: proof.signature,
      payload: proof.payload,
      state_init: wallet.account.walletStateInit ?? null,
    },
  };
}

/** Connect a wallet with a fresh proof and link it; resolves with the linked wallet. */
export async function connectAndLink(lang: Lang): Promise<ton.LinkedWallet> {
  const ui = await tonConnect(lang);
  await ui.connectionRestored;
  if (ui.connected) await ui.disconnect(); // a restored session carries no fresh proof
  const { payload } = await ton.proofPayload();
  ui.setConnectRequestParameters({ state: "ready", value: { tonProof: payload } });
  const connected = new Promise<ConnectedWallet>((resolve, reject) => {
    const offStatus = ui.onStatusChange(
      (wallet) => {
        if (!wallet) return;
        offStatus();
        offModal();
        resolve(wallet);
      },
      (error) => {
        offStatus();
        offModal();
        reject(error);
      },
    );
    const offModal = ui.onModalStateChange((state) => {
      if (state.status === "closed" && state.closeReason !== "wallet-selected") {
        offStatus();
        offModal();
        reject(new ConnectCancelled());
      }
    });
  });
  await ui.openModal();
  const wallet = await connected;
  ui.closeModal("wallet-selected");
  const body = proofBody(wallet);
  if (!body) {
    await ui.disconnect().catch(() => undefined);
    throw new Error("the wallet sent no ton_proof");
  }
  return ton.linkWallet(body);
}

/** Forget the wallet here and in TON Connect. */
export async function disconnect(lang: Lang): Promise<void> {
  await ton.unlinkWallet();
  if (!instance) return;
  const ui = await tonConnect(lang);
  if (ui.connected) await ui.disconnect().catch(() => undefined);
}

const POLL_MS = [1000, 1500, 2000, 3000, 5000];

/**
 * Pay one item in TON: an invoice from our API, the wallet asked to send exactly its request
 * (connecting first if needed), and the invoice polled meanwhile until the watcher has seen the
 * transfer on chain. The chain is the truth: polling does not wait for the wallet's answer
 * (which may come late, or never, over the bridge), but a refusal from the wallet ends it.
 * Resolves with the last state seen (`paid`, or still `pending` after ~3 minutes).
 */
export async function payWithTon(
  lang: Lang,
  kind: ton.TonItemKind,
  itemId: number,
  onSent?: (invoice: ton.TonInvoice) => void,
): Promise<ton.TonInvoice> {
  const ui = await tonConnect(lang);
  await ui.connectionRestored;
  if (!ui.connected) await connectAndLink(lang);
  let invoice = await ton.createInvoice(kind, itemId);
  let refused: unknown = null;
  if (invoice.ton_connect) {
    const request = invoice.ton_connect;
    const created = invoice;
    ui.sendTransaction({
      validUntil: request.validUntil,
      network: request.network as never,
      messages: request.messages,
    }).then(
      () => onSent?.(created),
      (error: unknown) => {
        refused = error;
      },
    );
  }
  for (let attempt = 0; attempt < 45 && invoice.status === "pending"; attempt += 1) {
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS[Math.min(attempt, POLL_MS.length - 1)]));
    if (refused) throw refused;
    invoice = await ton.getInvoice(invoice.id);
  }
  return invoice;
}
