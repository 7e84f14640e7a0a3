/** `/api/v1/wallet`: credits, history, packs bought with Stars. */

import { api } from "./session";
import type { HistoryOut, PackOut, WalletOut } from "./types";

export const wallet = () => api().get<WalletOut>("/wallet");
export const history = (cursor: string | null, signal?: AbortSignal) =>
  api().get<HistoryOut>("/wallet/history", { cursor, limit: 30 }, signal);
export const packs = () => api().get<{ packs: PackOut[] }>("/wallet/packs");
export const invoice = (packId: number) =>
  api().post<{ invoice_link: string }>(`/wallet/packs/${packId}/invoice`);
