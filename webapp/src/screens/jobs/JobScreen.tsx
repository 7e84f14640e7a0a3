/** One job: live progress, then its results (play, open in the drive, download) or its error. */

import { useEffect, useRef } from "react";
import * as drive from "../../api/drive";
import * as jobs from "../../api/jobs";
import type { JobOut, OutputFile, ProgressEvent } from "../../api/types";
import { navigate, useParams } from "../../app/router";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { MediaPlayer } from "../../ui/media";
import { ErrorView, Loading, ProgressBar } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";
import { applyEvent } from "./JobsScreen";
import { StatusBadge, isActive, useJobEvents, useToolNames } from "./common";
import "./jobs.css";

const SAFETY_POLL_MS = 5000;

function Output({ file }: { file: OutputFile }) {
  const i18n = useI18n();
  const { t } = i18n;
  const openInDrive = async () => {
    try {
      const found = await drive.getFile(file.id);
      navigate(found.folder_id ? `/drive/${found.folder_id}` : "/");
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    }
  };
  return (
    <li className="output" data-testid="output">
      <MediaPlayer media={file} />
      <div className="row between">
        <span className="ellipsis">{file.name}</span>
        <span className="muted small">{i18n.bytes(file.size)}</span>
      </div>
      <div className="row end">
        <button type="button" className="button" onClick={() => void openInDrive()}>
          {t("jobs.open_in_drive")}
        </button>
        <a className="button primary" href={file.download_url} target="_blank" rel="noreferrer">
          {t("drive.download")}
        </a>
      </div>
    </li>
  );
}

export default function JobScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const id = Number(useParams().id);
  const names = useToolNames();
  const job = useResource(() => jobs.getJob(id), [id]);
  const fetchedFinal = useRef(false);

  useJobEvents((event: ProgressEvent) => {
    if (event.id !== id) return;
    job.setData((current) => (current ? applyEvent<JobOut>(current, event) : current));
    if (!isActive(event.status) && !fetchedFinal.current) {
      fetchedFinal.current = true;
      telegram.notify(event.status === "succeeded" ? "success" : "error");
      job.reload(); // the final row carries the outputs and their links
    }
  });
  const active = job.data ? isActive(job.data.status) : false;
  useEffect(() => {
    if (job.data && !active) fetchedFinal.current = true;
    if (!active) return;
    // a safety net for streams a proxy holds back: the row is the truth
    const timer = window.setInterval(job.reload, SAFETY_POLL_MS);
    return () => window.clearInterval(timer);
  }, [active, job.data, job.reload]);

  if (job.loading && !job.data) return <Loading />;
  if (job.error || !job.data) return <ErrorView error={job.error} onRetry={job.reload} />;
  const data = job.data;
  const cancel = async () => {
    try {
      const cancelled = await jobs.cancelJob(data.id);
      job.setData(() => ({ ...data, ...cancelled }));
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    }
  };
  return (
    <section className="job-page" data-testid="job-page" data-status={data.status}>
      <header className="row between">
        <h2 className="section-title">{names[data.tool] ?? data.tool}</h2>
        <StatusBadge status={data.status} />
      </header>
      {isActive(data.status) && (
        <div className="stack">
          <ProgressBar value={data.progress} label={data.stage} testId="job-progress" />
          <span className="muted">
            {data.stage || t("job.waiting")} · {i18n.number(data.progress)}%
          </span>
          <button type="button" className="button ghost" onClick={() => void cancel()}>
            {t("jobs.cancel")}
          </button>
        </div>
      )}
      {data.error && <p className="error-text">{data.error.message}</p>}
      {data.text && <p className="job-text" data-testid="job-text">{data.text}</p>}
      {data.outputs.length > 0 && (
        <ul className="outputs" data-testid="outputs">
          {data.outputs.map((file) => (
            <Output key={file.id} file={file} />
          ))}
        </ul>
      )}
      <dl className="details">
        <div>
          <dt>{t("jobs.started")}</dt>
          <dd>{i18n.date(data.created_at)}</dd>
        </div>
        <div>
          <dt>{t("jobs.cost")}</dt>
          <dd>{t("jobs.price", { price: i18n.number(data.price) })}</dd>
        </div>
      </dl>
      {data.status !== "queued" && data.status !== "running" && (
        <button type="button" className="button" onClick={() => navigate(`/store/${data.tool}`, { state: { prefill: data.params } })}>
          {t("drive.run_again")}
        </button>
      )}
    </section>
  );
}
