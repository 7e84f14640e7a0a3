/** TON: linking the fan's wallet with a verified `ton_proof` (`/ton/proof-payload`,
 * `/ton/wallet`), TON prices and invoices (`/ton/prices`, `/ton/invoices`), and the creator's
 * earnings, prices and payouts (`/creator/ton`). Amounts are nanotons as strings, with the
 * same value in TON beside them. */

import type { UIWallet } from "@tonconnect/ui";
import { api } from "./session";

export interface LinkedWallet {
  address: string;
  address_raw: string;
  network: string;
  public_key: string;
  wallet_version: string | null;
  linked_at: string;
}

/** What `@tonconnect/ui` hands a backend after a connect with `tonProof`. */
export interface ProofBody {
  address: string;
  network: string;
  public_key: string;
  proof: {
    timestamp: number;
    domain: { lengthBytes: number; value: string };
    signature: string;
    payload: string;
    state_init: string | null;
  };
}

export const proofPayload = () => api().post<{ payload: string; expires_at: number }>("/ton/proof-payload");
export const linkedWallet = () => api().get<{ wallet: LinkedWallet | null }>("/ton/wallet");
export const linkWallet = (body: ProofBody) => api().post<LinkedWallet>("/ton/wallet", body);
export const unlinkWallet = () => api().delete("/ton/wallet");

/** Wallets for TON Connect UI's `includeWallets` (the deployment's configured list: in
 * `atelier dev`, the TON stand-in's test wallet); the type alone comes from the library. */
export const connectWallets = () => api().get<{ items: UIWallet[] }>("/ton/connect-wallets");

export type TonItemKind = "credits" | "ppv" | "vip";

export interface TonPrice {
  kind: TonItemKind;
  item_id: number;
  asset: string;
  amount: string;
  amount_ton: string;
}

export interface TonConnectRequest {
  validUntil: number;
  network: string;
  messages: { address: string; amount: string; payload: string }[];
}

export interface TonInvoice {
  id: number;
  kind: TonItemKind;
  item_id: number;
  status: "pending" | "paid" | "underpaid" | "expired";
  amount_due: string;
  amount_due_ton: string;
  amount_received: string;
  comment: string;
  address: string;
  expires_at: string;
  paid_at: string | null;
  ton_connect: TonConnectRequest | null;
  link: string | null;
}

export const tonPrices = () => api().get<{ items: TonPrice[] }>("/ton/prices");
export const createInvoice = (kind: TonItemKind, itemId: number) =>
  api().post<TonInvoice>("/ton/invoices", { kind, item_id: itemId });
export const getInvoice = (id: number) => api().get<TonInvoice>(`/ton/invoices/${id}`);

export interface Earnings {
  invoices: number;
  gross: string;
  fees: string;
  net: string;
  paid_out: string;
  in_flight: string;
  available: string;
  available_ton: string;
  fee_bps: number;
  payout_min: string;
  daily_cap: string;
}

export interface Payout {
  id: number;
  status: "requested" | "signed" | "confirmed" | "failed" | "review";
  amount: string;
  amount_ton: string;
  destination: string;
  comment: string;
  tx_hash: string | null;
  failure: string | null;
  created_at: string;
  confirmed_at: string | null;
}

export const earnings = () => api().get<Earnings>("/creator/ton/earnings");
export const creatorTonPrices = () => api().get<{ items: TonPrice[] }>("/creator/ton/prices");
export const setTonPrice = (kind: TonItemKind, itemId: number, amountTon: string | null) =>
  api().put<TonPrice | null>("/creator/ton/prices", { kind, item_id: itemId, amount_ton: amountTon });
export const payouts = () => api().get<{ items: Payout[] }>("/creator/ton/payouts");
export const requestPayout = (amountTon: string | null) => api().post<Payout>("/creator/ton/payouts", { amount_ton: amountTon });

/** Nanotons (a string) to TON for display, without floating-point rounding. */
export function nanoToTon(nano: string): string {
  const negative = nano.startsWith("-");
  const digits = (negative ? nano.slice(1) : nano).padStart(10, "0");
  const whole = digits.slice(0, -9).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-9).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}
