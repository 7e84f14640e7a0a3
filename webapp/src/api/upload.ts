/**
 * Uploads with a progress bar: `fetch` reports no upload progress, XMLHttpRequest does.
 * The file is sent as the raw body (the API sniffs its type from the bytes); a 401 signs in
 * again and sends it once more, like every other call.
 */

import { API_BASE, ApiError, withQuery } from "./client";
import { api } from "./session";
import type { FileOut } from "./types";

export interface UploadHandle {
  promise: Promise<FileOut>;
  abort(): void;
}

function parseError(xhr: XMLHttpRequest): ApiError {
  try {
    const body = JSON.parse(xhr.responseText) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    if (body.error) {
      return new ApiError(
        xhr.status,
        body.error.code ?? `http_${xhr.status}`,
        body.error.message ?? "",
        body.error.details ?? null,
      );
    }
  } catch {
    // not JSON
  }
  return new ApiError(xhr.status, xhr.status ? `http_${xhr.status}` : "network", xhr.statusText);
}

function send(
  file: File,
  url: string,
  token: string,
  onProgress: (fraction: number) => void,
  bind: (xhr: XMLHttpRequest) => void,
): Promise<FileOut> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    bind(xhr);
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as FileOut);
      else reject(parseError(xhr));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The network is unreachable."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "The upload was cancelled."));
    xhr.send(file);
  });
}

export function uploadFile(
  file: File,
  folderId: number | null,
  onProgress: (fraction: number) => void,
): UploadHandle {
  let current: XMLHttpRequest | null = null;
  let aborted = false;
  const url = withQuery(`${API_BASE}/drive/files`, { name: file.name, folder_id: folderId });
  const bind = (xhr: XMLHttpRequest) => {
    current = xhr;
  };
  const promise = (async () => {
    const client = api();
    try {
      return await send(file, url, await client.token(), onProgress, bind);
    } catch (error) {
      if (aborted || !(error instanceof ApiError) || error.status !== 401) throw error;
      client.forget();
      onProgress(0);
      return send(file, url, await client.token(), onProgress, bind);
    }
  })();
  return {
    promise,
    abort() {
      aborted = true;
      (current as XMLHttpRequest | null)?.abort();
    },
  };
}
