/** The groups, supergroups and channels the creator's bot is in (`/api/v1/creator/groups`). */

import { api } from "./session";
import type { Limit } from "./creator";

export type ChatType = "group" | "supergroup" | "channel";
export type BotStatus = "member" | "administrator" | "left" | "kicked";

export interface ManagedGroup {
  id: number;
  chat_id: number;
  type: ChatType;
  title: string;
  username: string | null;
  bot_status: BotStatus;
  rights: Record<string, boolean>;
  member_count: number | null;
  added_by: number | null;
  /** The bot left on its own: the plan had no room for this chat. */
  refused: boolean;
  refused_at: string | null;
  /** Features using the chat: "vip", "task". */
  used_by: string[];
  /** What those features need and the bot lacks here: "administrator" or a right's name. */
  missing: string[];
  updated_at: string;
}

export interface Groups {
  items: ManagedGroup[];
  usage: Limit;
}

export const groups = () => api().get<Groups>("/creator/groups");
export const refreshGroup = (id: number) => api().post<ManagedGroup>(`/creator/groups/${id}/refresh`);
export const leaveGroup = (id: number) => api().delete(`/creator/groups/${id}`);

export const isPresent = (group: ManagedGroup) => group.bot_status === "member" || group.bot_status === "administrator";
