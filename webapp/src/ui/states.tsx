/** Loading, empty and error states: every list shows one of them instead of a blank screen. */

import type { ReactNode } from "react";
import { useI18n } from "../i18n";
import { errorMessage, isAuthError } from "./errors";
import { Icon, type IconName } from "./icons";

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="state state-loading" role="status" aria-busy="true" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? t("common.loading")}</span>
    </div>
  );
}

export function Empty(props: { icon?: IconName; title: string; hint?: string; action?: ReactNode }) {
  return (
    <div className="state state-empty" data-testid="empty">
      <Icon name={props.icon ?? "file"} className="state-icon" />
      <strong>{props.title}</strong>
      {props.hint && <span className="muted">{props.hint}</span>}
      {props.action}
    </div>
  );
}

export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const i18n = useI18n();
  return (
    <div className="state state-error" role="alert" data-testid="error">
      <strong>{i18n.t("error.title")}</strong>
      <span>{errorMessage(i18n, error)}</span>
      {onRetry && !isAuthError(error) && (
        <button type="button" className="button" onClick={onRetry}>
          {i18n.t("common.retry")}
        </button>
      )}
    </div>
  );
}

export function ProgressBar(props: { value: number; label?: string; testId?: string }) {
  const value = Math.max(0, Math.min(100, Math.round(props.value)));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-label={props.label}
      data-testid={props.testId}
    >
      <div className="progress-fill" style={{ inlineSize: `${value}%` }} />
    </div>
  );
}
