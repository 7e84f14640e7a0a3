/** Premium content: the fan's feed and VIP screen (`/feed`, `/vip`) and the creator's posts and
 * packages (`/creator/content`, `/creator/vip`). A locked post carries no media and no text,
 * only its teaser, a blurred preview and how to unlock it. */

import { api } from "./session";

export type Access = "free" | "vip" | "ppv" | "task";

export interface PostMedia {
  id: number;
  kind: "photo" | "video" | "audio" | "document";
  mime_type: string;
  name: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
  url: string;
  thumbnail_url: string | null;
}

/** A media item of the creator's own post: `id` is the post-media id, `file_id` the drive file
 * (what `file_ids` takes; send them back unchanged to keep the media). */
export interface CreatorPostMedia extends PostMedia {
  file_id: number;
}

export interface Unlock {
  kind: "ppv" | "vip" | "task";
  price_stars: number | null;
  packages: { id: number; name: string; price_stars: number }[];
  task_id: number | null;
}

export interface Post {
  id: number;
  access: Access;
  locked: boolean;
  unlocked_via: string | null;
  text_html: string | null;
  teaser: string;
  pinned: boolean;
  published_at: string | null;
  media: PostMedia[];
  media_count: number;
  media_kinds: string[];
  preview_url: string | null;
  unlock: Unlock | null;
}

export interface InvoiceLink {
  invoice_link: string;
}

export const feed = (cursor: string | null, signal?: AbortSignal) =>
  api().get<{ items: Post[]; next_cursor: string | null }>("/feed", { cursor, limit: 20 }, signal);
export const post = (id: number) => api().get<Post>(`/feed/${id}`);
export const viewPost = (id: number) => api().post<{ counted: boolean }>(`/feed/${id}/view`);
export const postInvoice = (id: number) => api().post<InvoiceLink>(`/feed/${id}/invoice`);

// -- the fan's VIP ------------------------------------------------------------------------------

export interface Subscription {
  id: number;
  package_id: number;
  status: "active" | "cancelled" | "expired";
  period_end: string;
  renews: boolean;
  is_open: boolean;
}

export interface FanPackage {
  id: number;
  name: string;
  description: string;
  perks: string[];
  price_stars: number;
  has_channel: boolean;
  subscription: Subscription | null;
}

export const vip = () => api().get<{ packages: FanPackage[] }>("/vip");
export const vipInvoice = (packageId: number) => api().post<InvoiceLink>(`/vip/packages/${packageId}/invoice`);
export const cancelVip = (subscriptionId: number) => api().post<Subscription>(`/vip/subscriptions/${subscriptionId}/cancel`);

// -- the creator's posts ----------------------------------------------------------------------------

export type PostStatus = "draft" | "scheduled" | "published";

export interface CreatorPost {
  id: number;
  status: PostStatus;
  access: Access;
  text_html: string;
  teaser: string;
  price_stars: number | null;
  package_ids: number[];
  unlock_task_id: number | null;
  pinned: boolean;
  publish_at: string | null;
  published_at: string | null;
  created_at: string;
  updated_at: string;
  media: CreatorPostMedia[];
  preview_url: string | null;
}

export interface PostDraft {
  text: string;
  teaser: string;
  access: Access;
  price_stars: number | null;
  package_ids: number[];
  unlock_task_id: number | null;
  file_ids: number[];
  pinned: boolean;
}

export interface PostStats {
  views: number;
  unlocks: number;
  unlocks_by_source: Record<string, number>;
  revenue_stars: number;
  purchases: number;
}

export const posts = (cursor: string | null, signal?: AbortSignal) =>
  api().get<{ items: CreatorPost[]; next_cursor: string | null }>("/creator/content/posts", { cursor, limit: 20 }, signal);
export const creatorPost = (id: number) => api().get<CreatorPost>(`/creator/content/posts/${id}`);
export const createPost = (draft: PostDraft & { publish?: boolean; publish_at?: string | null }) =>
  api().post<CreatorPost>("/creator/content/posts", draft);
export const updatePost = (id: number, draft: Partial<PostDraft>) => api().patch<CreatorPost>(`/creator/content/posts/${id}`, draft);
export const publishPost = (id: number, publishAt: string | null = null) =>
  api().post<CreatorPost>(`/creator/content/posts/${id}/publish`, publishAt ? { publish_at: publishAt } : {});
export const unpublishPost = (id: number) => api().post<CreatorPost>(`/creator/content/posts/${id}/unpublish`);
export const pinPost = (id: number, pinned: boolean) =>
  pinned ? api().post<CreatorPost>(`/creator/content/posts/${id}/pin`) : api().delete<CreatorPost>(`/creator/content/posts/${id}/pin`);
export const deletePost = (id: number) => api().delete(`/creator/content/posts/${id}`);
export const postStats = (id: number) => api().get<PostStats>(`/creator/content/posts/${id}/stats`);

// -- the creator's VIP packages -----------------------------------------------------------------------

export interface CreatorPackage {
  id: number;
  name: string;
  description: string;
  perks: string[];
  price_stars: number;
  is_active: boolean;
  channel_chat_id: number | null;
  position: number;
  subscribers: Record<string, number>;
  channel_status: "admin" | "not_admin" | "unreachable" | null;
}

export interface PackageDraft {
  name: string;
  description: string;
  perks: string[];
  price_stars: number;
  channel_chat_id: number | null;
}

export interface Subscriber {
  subscription_id: number;
  package_id: number;
  user_id: number;
  telegram_id: number;
  first_name: string;
  username: string | null;
  status: string;
  period_end: string;
  is_recurring: boolean;
  cancelled_at: string | null;
  expired_at: string | null;
  created_at: string;
}

export const packages = () => api().get<{ items: CreatorPackage[] }>("/creator/vip/packages");
export const createPackage = (draft: PackageDraft) => api().post<CreatorPackage>("/creator/vip/packages", draft);
export const deactivatePackage = (id: number) => api().delete(`/creator/vip/packages/${id}`);
export const subscribers = (cursor: string | null) =>
  api().get<{ items: Subscriber[]; next_cursor: string | null }>("/creator/vip/subscribers", { cursor, limit: 50 });
