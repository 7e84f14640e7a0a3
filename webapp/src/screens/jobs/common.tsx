/** What the jobs screens share: tool names, status badges, live updates from the SSE stream. */

import { useEffect, useRef, useState } from "react";
import * as catalog from "../../api/catalog";
import { subscribeJobs } from "../../api/events";
import type { JobStatus, ProgressEvent } from "../../api/types";
import { useI18n, type Key } from "../../i18n";

let names: Promise<Record<string, string>> | null = null;

/** Tool slug → its name in the fan's language (one catalogue request per page). */
export function useToolNames(): Record<string, string> {
  const [value, setValue] = useState<Record<string, string>>({});
  useEffect(() => {
    names ??= catalog
      .tools(null, "", false)
      .then((tools) => Object.fromEntries(tools.map((tool) => [tool.slug, tool.name])))
      .catch(() => {
        names = null;
        return {};
      });
    let live = true;
    void names.then((found) => live && setValue(found));
    return () => {
      live = false;
    };
  }, []);
  return value;
}

export const STATUS_KEYS: Record<JobStatus, Key> = {
  queued: "job.queued",
  running: "job.running",
  succeeded: "job.succeeded",
  failed: "job.failed",
  cancelled: "job.cancelled",
};

export function StatusBadge({ status }: { status: JobStatus }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge-${status}`} data-testid="job-status" data-status={status}>
      {t(STATUS_KEYS[status])}
    </span>
  );
}

/** Listen to the shared jobs stream while mounted (the newest `listener` is called). */
export function useJobEvents(listener: (event: ProgressEvent) => void): void {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => subscribeJobs((event) => ref.current(event)), []);
}

export const isActive = (status: JobStatus): boolean => status === "queued" || status === "running";
