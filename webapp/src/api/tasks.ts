/** Tasks and XP: the fan's list, claims and level (`/tasks`), and the creator's side
 * (`/creator/tasks`: tasks, the bot-is-admin check for channels, proofs to review). */

import { api } from "./session";

export type TaskKind = "join_channel" | "invite_friends" | "open_app_streak" | "custom";
export const TASK_KINDS: readonly TaskKind[] = ["join_channel", "invite_friends", "open_app_streak", "custom"];

export interface Level {
  number: number;
  name: string;
  xp: number;
  floor: number;
  next_at: number | null;
}

export interface FanTask {
  id: number;
  kind: TaskKind;
  title: string;
  description: string;
  target: number;
  progress: number | null;
  status: "available" | "pending" | "completed" | "rejected";
  reward: { xp: number; credits: number; post_id: number | null; text: string };
  chat_title: string | null;
  action_url: string | null;
}

export interface ClaimOut {
  outcome: string;
  message: string;
  task: FanTask;
  level: Level;
}

export const fanTasks = () => api().get<{ xp: number; level: Level; tasks: FanTask[] }>("/tasks");
export const claim = (id: number, proof: string | null) => api().post<ClaimOut>(`/tasks/${id}/claim`, { proof });
/** The app is open: counts for the open-the-app streak (the server keeps one a day). */
export const appOpened = () => api().post<{ streak: number }>("/tasks/opens");

export interface CreatorTask {
  id: number;
  kind: TaskKind;
  title: string;
  description: string;
  target: number;
  chat_id: number | null;
  chat_title: string | null;
  chat_url: string | null;
  reward_xp: number;
  reward_credits: number;
  reward_post_id: number | null;
  is_active: boolean;
  position: number;
  completed: number;
  pending: number;
  problem: string | null;
  problem_message: string | null;
  created_at: string;
}

export interface TaskDraft {
  kind: TaskKind;
  title: string;
  description: string;
  target: number;
  chat: string | null;
  reward_xp: number;
  reward_credits: number;
}

export interface ChatCheck {
  chat_id: number | null;
  title: string | null;
  username: string | null;
  type: string | null;
  bot_status: string | null;
  bot_is_admin: boolean;
  problem: string | null;
  message: string | null;
}

export interface Submission {
  id: number;
  task_id: number;
  task_title: string;
  user_id: number;
  telegram_id: number;
  user_name: string;
  username: string | null;
  status: string;
  proof: string | null;
  created_at: string;
}

export const creatorTasks = () => api().get<{ items: CreatorTask[] }>("/creator/tasks");
export const createTask = (draft: TaskDraft) => api().post<CreatorTask>("/creator/tasks", draft);
export const archiveTask = (id: number) => api().delete(`/creator/tasks/${id}`);
export const recheckTask = (id: number) => api().post<CreatorTask>(`/creator/tasks/${id}/recheck`);
export const checkChat = (chat: string) => api().post<ChatCheck>("/creator/tasks/check-chat", { chat });
export const submissions = () => api().get<{ items: Submission[]; next_cursor: string | null }>("/creator/tasks/submissions");
export const review = (id: number, approve: boolean) =>
  api().post<Submission>(`/creator/tasks/submissions/${id}/${approve ? "approve" : "reject"}`);
