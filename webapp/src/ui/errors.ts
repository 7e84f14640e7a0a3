/** API errors in the fan's language: the code picks a sentence, the server's text is a fallback. */

import { ApiError } from "../api/client";
import type { I18n, Key } from "../i18n";

const BY_CODE: Record<string, Key> = {
  network: "error.network",
  no_init_data: "error.no_init_data",
  invalid_init_data: "error.reopen",
  invalid_token: "error.reopen",
  unauthorized: "error.reopen",
  not_found: "error.not_found",
  conflict: "error.conflict",
  folder_conflict: "error.folder_conflict",
  insufficient_funds: "error.insufficient_funds",
  quota_exceeded: "error.quota",
  too_large: "error.too_large",
  payload_too_large: "error.too_large",
  image_too_large: "error.too_large",
  unsupported_media_type: "error.unsupported_media",
  unsupported_media: "error.unsupported_media",
  invalid: "error.invalid",
  invalid_input: "error.invalid",
  rate_limited: "error.rate_limited",
  plan_limit: "error.rate_limited",
  job_finished: "error.job_finished",
  unavailable: "error.unavailable",
  provider_unavailable: "error.unavailable",
  tenant_unavailable: "error.unavailable",
};

export function errorCode(error: unknown): string {
  return error instanceof ApiError ? error.code : "unknown";
}

export function errorMessage(i18n: I18n, error: unknown): string {
  if (error instanceof ApiError) {
    const key = BY_CODE[error.code];
    if (key) return i18n.t(key);
    if (error.status >= 500) return i18n.t("error.server");
    return i18n.t("error.generic");
  }
  return i18n.t("error.generic");
}

export function isAuthError(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}
