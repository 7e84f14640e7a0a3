/** `/api/v1/jobs`: the fan's generations. Live progress: `events.ts`. */

import { api } from "./session";
import type { JobOut, JobPage } from "./types";

export const listJobs = (cursor: string | null, signal?: AbortSignal) =>
  api().get<JobPage>("/jobs", { cursor, limit: 20 }, signal);
export const getJob = (id: number) => api().get<JobOut>(`/jobs/${id}`);
export const cancelJob = (id: number) => api().post<JobOut>(`/jobs/${id}/cancel`);
