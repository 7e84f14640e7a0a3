/**
 * The drive listing of one folder (or one search), page by page, plus local edits: moves,
 * renames and uploads show at once, and files still waiting for their thumbnail (made by the
 * worker after an upload commits) are polled until it arrives.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import * as drive from "../../api/drive";
import type { ListedFile, FolderOut, Order, Sort } from "../../api/types";

export interface Query {
  q: string;
  type: string;
  tag: string;
}

export interface Listing {
  folders: FolderOut[];
  files: ListedFile[];
  breadcrumbs: FolderOut[];
  next: string | null;
}

const EMPTY: Listing = { folders: [], files: [], breadcrumbs: [], next: null };
const THUMB_POLL_MS = 1000;
const THUMB_POLL_TRIES = 60;

export const isSearch = (query: Query): boolean => Boolean(query.q || query.type || query.tag);

function fetchPage(folderId: number | null, sort: Sort, order: Order, query: Query, cursor: string | null, signal?: AbortSignal) {
  if (isSearch(query)) {
    const params = { q: query.q || undefined, type: query.type || undefined, tag: query.tag || undefined };
    return drive.search(params, cursor, signal).then((page) => ({
      folders: [],
      files: page.files,
      breadcrumbs: [],
      next: page.next_cursor,
    }));
  }
  return drive.listFolder(folderId, sort, order, cursor, signal).then((page) => ({
    folders: page.folders,
    files: page.files,
    breadcrumbs: page.breadcrumbs,
    next: page.next_cursor,
  }));
}

export function useListing(folderId: number | null, sort: Sort, order: Order, query: Query) {
  const [listing, setListing] = useState<Listing>(EMPTY);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const waiting = useRef(new Map<number, number>()); // file id → polls left

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    fetchPage(folderId, sort, order, query, null, controller.signal)
      .then((page) => setListing(page))
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [folderId, sort, order, query.q, query.type, query.tag, tick]); // eslint-disable-line react-hooks/exhaustive-deps

  const loadMore = useCallback(async () => {
    if (!listing.next || loadingMore) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage(folderId, sort, order, query, listing.next);
      setListing((current) => ({
        ...current,
        files: [...current.files, ...page.files.filter((f) => !current.files.some((c) => c.id === f.id))],
        next: page.next,
      }));
    } catch (err) {
      setError(err);
    } finally {
      setLoadingMore(false);
    }
  }, [folderId, sort, order, query, listing.next, loadingMore]);

  const updateFile = useCallback((file: ListedFile) => {
    setListing((current) => ({
      ...current,
      files: current.files.map((f) => (f.id === file.id ? file : f)),
    }));
  }, []);

  const removeFiles = useCallback((ids: number[]) => {
    setListing((current) => ({ ...current, files: current.files.filter((f) => !ids.includes(f.id)) }));
  }, []);

  const removeFolder = useCallback((id: number) => {
    setListing((current) => ({ ...current, folders: current.folders.filter((f) => f.id !== id) }));
  }, []);

  const upsertFolder = useCallback((folder: FolderOut) => {
    setListing((current) => {
      const exists = current.folders.some((f) => f.id === folder.id);
      const folders = exists
        ? current.folders.map((f) => (f.id === folder.id ? folder : f))
        : [...current.folders, folder].sort((a, b) => a.name.localeCompare(b.name));
      return { ...current, folders };
    });
  }, []);

  const watchThumbnail = useCallback((file: ListedFile) => {
    if (!file.thumbnail_url && (file.type === "image" || file.type === "video")) {
      waiting.current.set(file.id, THUMB_POLL_TRIES);
    }
  }, []);

  const addFile = useCallback(
    (file: ListedFile) => {
      setListing((current) =>
        current.files.some((f) => f.id === file.id) ? current : { ...current, files: [file, ...current.files] },
      );
      watchThumbnail(file);
    },
    [watchThumbnail],
  );

  useEffect(() => {
    const timer = window.setInterval(() => {
      for (const [id, left] of waiting.current) {
        if (left <= 0) {
          waiting.current.delete(id);
          continue;
        }
        waiting.current.set(id, left - 1);
        drive
          .getFile(id)
          .then((file) => {
            if (file.thumbnail_url || file.width) {
              waiting.current.delete(id);
              updateFile(file);
            }
          })
          .catch(() => waiting.current.delete(id));
      }
    }, THUMB_POLL_MS);
    return () => window.clearInterval(timer);
  }, [updateFile]);

  return {
    listing,
    loading,
    loadingMore,
    error,
    reload: () => setTick((n) => n + 1),
    loadMore,
    addFile,
    updateFile,
    removeFiles,
    removeFolder,
    upsertFolder,
  };
}
