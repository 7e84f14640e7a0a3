/** `/api/v1/catalog`: the tool store. */

import { api } from "./session";
import type { CategoryOut, Category, JobOut, QuoteOut, ToolDetail, ToolOut } from "./types";

export const categories = () => api().get<CategoryOut[]>("/catalog/categories");

export const tools = (category: Category | null, q: string, favourites: boolean, signal?: AbortSignal) =>
  api().get<ToolOut[]>("/catalog/tools", { category, q, favourites: favourites || null }, signal);

export const tool = (slug: string) => api().get<ToolDetail>(`/catalog/tools/${slug}`);

export const setFavourite = (slug: string, favourite: boolean) =>
  favourite
    ? api().put<void>(`/catalog/tools/${slug}/favourite`)
    : api().delete(`/catalog/tools/${slug}/favourite`);

export const quote = (slug: string, params: Record<string, unknown>) =>
  api().post<QuoteOut>(`/catalog/tools/${slug}/quote`, { params });

export const run = (slug: string, params: Record<string, unknown>, idempotencyKey: string) =>
  api().post<JobOut>(`/catalog/tools/${slug}/run`, { params, idempotency_key: idempotencyKey });
