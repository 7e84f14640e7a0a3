/**
 * Live job progress: one EventSource per page on `GET /api/v1/jobs/events`, shared by every
 * screen that listens. EventSource cannot send headers, so the token rides as
 * `?access_token=`. The browser reconnects a dropped stream by itself; when the server
 * refuses it (an expired token closes the source), we sign in again and reopen.
 */

import { API_BASE, withQuery } from "./client";
import { api } from "./session";
import type { ProgressEvent } from "./types";

type Listener = (event: ProgressEvent) => void;

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let reopenTimer: number | undefined;
let failures = 0;

let opening = false;

async function open(): Promise<void> {
  if (source || opening || listeners.size === 0) return;
  const client = api();
  opening = true;
  const token = await client.token().catch(() => null);
  opening = false;
  if (!token) {
    retryLater(client);
    return;
  }
  if (listeners.size === 0 || source) return;
  const es = new EventSource(withQuery(`${API_BASE}/jobs/events`, { access_token: token }));
  source = es;
  es.addEventListener("open", () => {
    failures = 0;
  });
  es.addEventListener("progress", (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as ProgressEvent;
    listeners.forEach((cb) => cb(event));
  });
  es.addEventListener("error", () => {
    if (es.readyState !== EventSource.CLOSED) return; // the browser is reconnecting
    es.close();
    if (source === es) source = null;
    retryLater(client);
  });
}

function retryLater(client: ReturnType<typeof api>): void {
  failures += 1;
  if (failures > 1) client.forget(); // refused twice: the token is probably stale
  window.clearTimeout(reopenTimer);
  reopenTimer = window.setTimeout(() => void open(), Math.min(10_000, 500 * 2 ** failures));
}

const LINGER_MS = 5000;
let closeTimer: number | undefined;

/** Listen to every job of the fan; the stream stays open a moment after the last listener
 * leaves, so moving between screens does not reconnect. */
export function subscribeJobs(listener: Listener): () => void {
  listeners.add(listener);
  window.clearTimeout(closeTimer);
  void open();
  return () => {
    listeners.delete(listener);
    if (listeners.size > 0) return;
    closeTimer = window.setTimeout(() => {
      if (listeners.size > 0) return;
      window.clearTimeout(reopenTimer);
      source?.close();
      source = null;
    }, LINGER_MS);
  };
}
