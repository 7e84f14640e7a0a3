/** "More" for a cursor-paged resource: fetch the page after the loaded ones and append it. A
 * failure is a toast; what is loaded stays. */

import { useState } from "react";
import { useI18n } from "../i18n";
import { errorMessage } from "./errors";
import { toast } from "./toast";
import type { Resource } from "./useResource";

export function useMore<T extends { next_cursor: string | null }>(
  page: Resource<T>,
  fetchNext: (cursor: string) => Promise<T>,
  append: (current: T, next: T) => T,
): { more: boolean; loadMore: () => Promise<void> } {
  const i18n = useI18n();
  const [more, setMore] = useState(false);
  const loadMore = async () => {
    const cursor = page.data?.next_cursor;
    if (!cursor) return;
    setMore(true);
    try {
      const next = await fetchNext(cursor);
      page.setData((current) => current && append(current, next));
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    } finally {
      setMore(false);
    }
  };
  return { more, loadMore };
}
