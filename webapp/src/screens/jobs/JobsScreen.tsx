/** The fan's jobs, newest first, with live progress bars (SSE) and cancel. */

import { useEffect } from "react";
import * as jobs from "../../api/jobs";
import type { JobSummary, ProgressEvent } from "../../api/types";
import { markInteractive } from "../../app/perf";
import { Link } from "../../app/router";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Empty, ErrorView, Loading, ProgressBar } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useMore } from "../../ui/useMore";
import { useResource } from "../../ui/useResource";
import { StatusBadge, isActive, useJobEvents, useToolNames } from "./common";
import "./jobs.css";

export function applyEvent<T extends JobSummary>(job: T, event: ProgressEvent): T {
  return {
    ...job,
    status: event.status,
    progress: event.progress,
    stage: event.stage,
    error: event.error ?? job.error,
    file_ids: event.file_ids?.length ? event.file_ids : job.file_ids,
  };
}

export default function JobsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const names = useToolNames();
  const page = useResource((signal) => jobs.listJobs(null, signal), []);
  useEffect(() => {
    if (page.data) markInteractive();
  }, [page.data]);

  useJobEvents((event: ProgressEvent) => {
    const current = page.data;
    if (current && !current.jobs.some((job) => job.id === event.id)) {
      page.reload(); // a job started elsewhere (the bot, another tab): fetch it whole
      return;
    }
    page.setData((list) => list && { ...list, jobs: list.jobs.map((job) => (job.id === event.id ? applyEvent(job, event) : job)) });
  });

  const { more, loadMore } = useMore(
    page,
    (cursor) => jobs.listJobs(cursor),
    (current, next) => ({ jobs: [...current.jobs, ...next.jobs], next_cursor: next.next_cursor }),
  );

  const cancel = async (id: number) => {
    try {
      const job = await jobs.cancelJob(id);
      telegram.impact("medium");
      page.setData((current) => current && { ...current, jobs: current.jobs.map((j) => (j.id === id ? { ...j, ...job } : j)) });
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    }
  };

  if (page.loading && !page.data) return <Loading />;
  if (page.error) return <ErrorView error={page.error} onRetry={page.reload} />;
  const list = page.data?.jobs ?? [];
  if (!list.length) {
    return (
      <Empty
        icon="jobs"
        title={t("jobs.empty")}
        hint={t("jobs.empty_hint")}
        action={
          <Link to="/store" className="button primary">
            {t("jobs.open_store")}
          </Link>
        }
      />
    );
  }
  return (
    <section className="jobs">
      <ul className="job-list" data-testid="jobs">
        {list.map((job) => (
          <li key={job.id} className="job-row" data-testid="job" data-job-id={job.id}>
            <Link to={`/jobs/${job.id}`} className="job-link">
              <div className="row between">
                <strong>{names[job.tool] ?? job.tool}</strong>
                <StatusBadge status={job.status} />
              </div>
              {isActive(job.status) && <ProgressBar value={job.progress} label={job.stage} testId="job-progress" />}
              <span className="muted small">
                {i18n.date(job.created_at)} · {t("jobs.price", { price: i18n.number(job.price) })}
                {job.stage && isActive(job.status) ? ` · ${job.stage}` : ""}
              </span>
              {job.error && <span className="error-text">{job.error.message}</span>}
            </Link>
            {isActive(job.status) && (
              <button type="button" className="button ghost" onClick={() => void cancel(job.id)}>
                {t("jobs.cancel")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {page.data?.next_cursor && (
        <button type="button" className="button ghost wide" disabled={more} onClick={() => void loadMore()}>
          {more ? t("common.loading") : t("common.more")}
        </button>
      )}
    </section>
  );
}
