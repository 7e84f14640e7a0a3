/** `/api/v1/creator/broadcasts`: compose, count the audience, preview to yourself, send, and
 * follow the progress live over SSE (EventSource cannot send headers: the token rides as
 * `?access_token=`, as for jobs). */

import { API_BASE, withQuery } from "./client";
import { api } from "./session";

export type AudienceKind = "all" | "inactive" | "language" | "vip";

export interface Audience {
  kind: AudienceKind;
  days?: number | null;
  language?: string | null;
  package_id?: number | null;
}

export type BroadcastStatus = "draft" | "running" | "paused" | "limited" | "completed" | "cancelled";

export interface Button {
  text: string;
  url: string;
}

export interface Broadcast {
  id: number;
  status: BroadcastStatus;
  text: string;
  media_kind: string | null;
  media_file_id: number | null;
  buttons: Button[][];
  audience: Audience;
  total: number;
  sent: number;
  failed: number;
  blocked: number;
  unconfirmed: number;
  throttled: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  audience_count: number | null;
}

export interface BroadcastDraft {
  text: string;
  media_file_id: number | null;
  buttons: Button[][];
  audience: Audience;
}

/** One `event: progress` of a broadcast's stream. */
export interface Progress {
  id: number;
  status: BroadcastStatus;
  total: number;
  sent: number;
  failed: number;
  blocked: number;
  unconfirmed: number;
  throttled: number;
  rate: number;
  eta_s: number | null;
  seq: number;
}

export const FINAL: readonly BroadcastStatus[] = ["completed", "cancelled"];

export const done = (p: Pick<Progress, "sent" | "failed" | "blocked" | "unconfirmed">) =>
  p.sent + p.failed + p.blocked + p.unconfirmed;

export const list = () =>
  api().get<{ items: Broadcast[]; next_cursor: number | null; daily_limit: number | null; used_today: number }>(
    "/creator/broadcasts",
  );
export const get = (id: number) => api().get<Broadcast>(`/creator/broadcasts/${id}`);
export const create = (draft: BroadcastDraft) => api().post<Broadcast>("/creator/broadcasts", draft);
export const count = (audience: Audience) => api().post<{ count: number }>("/creator/broadcasts/audience", audience);
export const preview = (id: number) => api().post<{ queued: boolean }>(`/creator/broadcasts/${id}/preview`);
export const action = (id: number, verb: "send" | "pause" | "resume" | "cancel") =>
  api().post<Broadcast>(`/creator/broadcasts/${id}/${verb}`);

/** Follow one broadcast until it ends (or `stop()`); reopens with a fresh token when refused. */
export function follow(id: number, onProgress: (event: Progress) => void): () => void {
  let source: EventSource | null = null;
  let stopped = false;
  let failures = 0;
  const open = async () => {
    const client = api();
    if (failures > 1) client.forget();
    const token = await client.token().catch(() => null);
    if (stopped) return;
    if (!token) {
      failures += 1;
      window.setTimeout(() => void open(), Math.min(10_000, 500 * 2 ** failures));
      return;
    }
    const es = new EventSource(withQuery(`${API_BASE}/creator/broadcasts/${id}/events`, { access_token: token }));
    source = es;
    es.addEventListener("progress", (message) => {
      failures = 0;
      const event = JSON.parse((message as MessageEvent<string>).data) as Progress;
      onProgress(event);
      if (FINAL.includes(event.status)) {
        stopped = true;
        es.close();
      }
    });
    es.addEventListener("error", () => {
      if (es.readyState !== EventSource.CLOSED || stopped) return;
      es.close();
      failures += 1;
      window.setTimeout(() => void open(), Math.min(10_000, 500 * 2 ** failures));
    });
  };
  void open();
  return () => {
    stopped = true;
    source?.close();
  };
}
