/** `/api/v1/drive`: folders, files, search, trash, tags, shares, usage. */

import { api } from "./session";
import type {
  FileOut,
  FolderOut,
  ListingOut,
  Order,
  PageOut,
  ShareOut,
  Sort,
  TagCount,
  TrashOut,
  UsageOut,
} from "./types";

export const PAGE_SIZE = 60;

export const listFolder = (
  folderId: number | null,
  sort: Sort,
  order: Order,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<ListingOut> =>
  api().get("/drive/list", { folder_id: folderId, sort, order, cursor, limit: PAGE_SIZE }, signal);

export interface SearchQuery {
  q?: string;
  tag?: string;
  type?: string;
}

export const search = (query: SearchQuery, cursor: string | null, signal?: AbortSignal) =>
  api().get<PageOut>("/drive/search", { ...query, cursor, limit: PAGE_SIZE }, signal);

export const folderTree = () => api().get<FolderOut[]>("/drive/folders");
export const tags = () => api().get<TagCount[]>("/drive/tags");
export const usage = () => api().get<UsageOut>("/drive/usage");
export const getFile = (id: number) => api().get<FileOut>(`/drive/files/${id}`);

export const createFolder = (name: string, parentId: number | null) =>
  api().post<FolderOut>("/drive/folders", { name, parent_id: parentId });
export const renameFolder = (id: number, name: string) =>
  api().patch<FolderOut>(`/drive/folders/${id}`, { name });
export const moveFolder = (id: number, parentId: number | null) =>
  api().patch<FolderOut>(`/drive/folders/${id}`, { parent_id: parentId });
export const trashFolder = (id: number) => api().delete(`/drive/folders/${id}`);
export const restoreFolder = (id: number) => api().post<FolderOut>(`/drive/folders/${id}/restore`);
export const purgeFolder = (id: number) => api().delete(`/drive/folders/${id}/purge`);

export const renameFile = (id: number, name: string) =>
  api().patch<FileOut>(`/drive/files/${id}`, { name });
export const moveFiles = (ids: number[], folderId: number | null) =>
  api().post<{ moved: number[] }>("/drive/files/move", { file_ids: ids, folder_id: folderId });
export const setTags = (id: number, values: string[]) =>
  api().put<{ tags: string[] }>(`/drive/files/${id}/tags`, { tags: values });
export const trashFile = (id: number) => api().delete(`/drive/files/${id}`);
export const restoreFile = (id: number) => api().post<FileOut>(`/drive/files/${id}/restore`);
export const purgeFile = (id: number) => api().delete(`/drive/files/${id}/purge`);
export const share = (id: number, expiresIn: number) =>
  api().post<ShareOut>(`/drive/files/${id}/shares`, { expires_in: expiresIn });

export const trash = (cursor?: string | null) =>
  api().get<TrashOut>("/drive/trash", cursor ? { cursor } : undefined);
export const emptyTrash = () => api().delete<{ purged: number }>("/drive/trash");
