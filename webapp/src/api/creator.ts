/**
 * `/api/v1/creator`: who runs this bot (`/me` answers 403 to fans, which hides the panel),
 * co-admins, the dashboard, stats, fans, texts, settings and the plan. Shapes follow the
 * server's schemas (see `/openapi.json`).
 */

import { ApiError } from "./client";
import { api } from "./session";

export interface CreatorMe {
  role: "owner" | "admin";
  tenant_id: number;
  tenant_name: string;
  plan: string;
}

let role: Promise<CreatorMe | null> | null = null;

/** The caller's role, asked once per page: null for a fan (403). */
export function creatorMe(): Promise<CreatorMe | null> {
  role ??= api()
    .get<CreatorMe>("/creator/me")
    .catch((error: unknown) => {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
      role = null; // a network error: ask again next time
      throw error;
    });
  return role;
}

// -- co-admins ----------------------------------------------------------------------------------

export interface AdminOut {
  telegram_id: number;
  role: "owner" | "admin";
  added_at: string | null;
}

export const admins = () => api().get<{ items: AdminOut[] }>("/creator/admins");
export const addAdmin = (telegramId: number) => api().post<AdminOut>("/creator/admins", { telegram_id: telegramId });
export const removeAdmin = (telegramId: number) => api().delete(`/creator/admins/${telegramId}`);

// -- dashboard and stats -------------------------------------------------------------------------

export interface KeyNumbers {
  total_users: number;
  new_users: number;
  active_today: number;
  active_average: number;
  revenue: number;
  refunds: number;
  jobs: number;
  credits_spent: number;
  tasks_completed: number;
}

export interface ActivityEvent {
  at: string;
  kind: string;
  user_id: number | null;
  data: Record<string, unknown>;
}

export interface BotStatus {
  telegram_bot_id: number;
  username: string;
  bot_active: boolean;
  tenant_active: boolean;
  webhook: {
    url_matches: boolean;
    pending_update_count: number;
    last_error_message: string | null;
    last_error_date: string | null;
  } | null;
  webhook_error: string | null;
}

export interface Dashboard {
  tenant_name: string;
  plan: string;
  bot: BotStatus;
  today: KeyNumbers;
  last_7_days: KeyNumbers;
  platform_balance: number;
  pending_submissions: number;
  recent: ActivityEvent[];
}

export const dashboard = () => api().get<Dashboard>("/creator/dashboard");

export type Period = 7 | 30 | 90;

export interface Stats {
  days: number;
  start: string;
  end: string;
  dates: string[];
  series: Record<string, number[]>;
  totals: Record<string, number>;
  key_numbers: KeyNumbers;
  previous: KeyNumbers;
  revenue_by_source: Record<string, number>;
  updated_at: string | null;
}

export const stats = (days: Period, signal?: AbortSignal) => api().get<Stats>("/creator/stats", { days }, signal);

// -- fans -----------------------------------------------------------------------------------------

export interface Fan {
  id: number;
  telegram_id: number;
  first_name: string;
  last_name: string | null;
  username: string | null;
  language: string | null;
  is_blocked: boolean;
  balance: number;
  created_at: string;
  last_seen_at: string;
}

export interface FanDetail extends Fan {
  referred_by: number | null;
  referrals: number;
  jobs: number;
  payments: number;
  stars_paid: number;
  tasks_completed: number;
  level: { xp: number; number: number; name: string };
}

export const fans = (q: string, cursor: string | null, signal?: AbortSignal) =>
  api().get<{ items: Fan[]; next_cursor: string | null }>("/creator/users", { q, cursor, limit: 50 }, signal);
export const fan = (id: number) => api().get<FanDetail>(`/creator/users/${id}`);
export const fanHistory = (id: number, before: string | null) =>
  api().get<{ items: ActivityEvent[]; next_cursor: string | null }>(`/creator/users/${id}/history`, { before, limit: 50 });

/** One message of a fan's conversation with the bot: ``in`` the fan wrote, ``out`` the bot sent. */
export interface ChatMessage {
  id: number;
  direction: "in" | "out";
  kind: string;
  text: string;
  telegram_message_id: number | null;
  created_at: string;
}

export const fanMessages = (id: number, before: string | null) =>
  api().get<{ items: ChatMessage[]; next_cursor: string | null }>(`/creator/users/${id}/messages`, { before, limit: 30 });

// -- texts ----------------------------------------------------------------------------------------

export interface TextItem {
  key: string;
  variables: string[];
  defaults: Record<string, string>;
  overrides: Record<string, string>;
}

export const texts = () => api().get<{ languages: string[]; items: TextItem[] }>("/creator/texts");
export const saveText = (key: string, language: string, template: string) =>
  api().put<{ key: string; language: string; template: string }>(`/creator/texts/${key}/${language}`, { template });
export const resetText = (key: string, language: string) => api().delete(`/creator/texts/${key}/${language}`);
export const previewText = (key: string, language: string, template: string | null) =>
  api().post<{ text: string; source: string }>("/creator/texts/preview", { key, language, template });

// -- settings, packs, tool prices, plan ---------------------------------------------------------

export interface Settings {
  name: string;
  default_language: string;
  languages: string[];
  referral_reward: number;
  welcome: Record<string, string | null>;
  welcome_defaults: Record<string, string>;
  chat_history: boolean;
}

export interface SettingsPatch {
  default_language?: string;
  languages?: string[];
  referral_reward?: number;
  welcome?: Record<string, string | null>;
  chat_history?: boolean;
}

export const settings = () => api().get<Settings>("/creator/settings");
export const saveSettings = (patch: SettingsPatch) => api().patch<Settings>("/creator/settings", patch);

export interface CreatorPack {
  id: number;
  stars: number;
  credits: number;
  bonus: number;
  total_credits: number;
  position: number;
  is_active: boolean;
}

export const creatorPacks = () => api().get<{ items: CreatorPack[] }>("/creator/settings/packs");
export const createPack = (pack: { stars: number; credits: number; bonus: number }) =>
  api().post<CreatorPack>("/creator/settings/packs", pack);
export const retirePack = (id: number) => api().delete(`/creator/settings/packs/${id}`);

export interface ToolPrice {
  slug: string;
  name: string;
  category: string;
  pricing_model: string;
  base_cost: number;
  default_price: number;
  price: number;
  custom_price: number | null;
  markup_percent: number | null;
  is_hidden: boolean;
}

export const toolPrices = () => api().get<{ items: ToolPrice[] }>("/creator/settings/tools");
export const setToolPrice = (slug: string, patch: { price?: number | null; is_hidden?: boolean }) =>
  api().patch<ToolPrice>(`/creator/settings/tools/${slug}`, patch);

export interface Limit {
  limit: number | null;
  used: number | null;
}

export interface Plan {
  code: string;
  name: string;
  custom: boolean;
  api_access: boolean;
  storage_bytes: Limit;
  /** used: broadcast messages sent today (UTC day), the broadcast quota's counter. */
  broadcast_messages_per_day: Limit;
  /** used: the assistant's replies to fans today (UTC day). */
  assistant_messages_per_day: Limit;
  /** used: groups and channels the bot is in now. */
  groups: Limit;
  monthly_credits: number;
  platform_balance: number;
  period_end: string | null;
  expired_at: string | null;
}

export const plan = () => api().get<Plan>("/creator/plan");
