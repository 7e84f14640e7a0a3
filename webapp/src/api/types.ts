/** The shapes of `/api/v1` (see `/openapi.json`), as the screens use them. */

export interface UserOut {
  id: number;
  telegram_id: number;
  first_name: string;
  last_name: string | null;
  username: string | null;
  language: string | null;
}

export interface SignInResponse {
  token: string;
  token_type: string;
  expires_at: number;
  tenant_id: number;
  user: UserOut;
}

// -- drive ------------------------------------------------------------------------------------

export interface FolderOut {
  id: number;
  name: string;
  parent_id: number | null;
  color: string | null;
  created_at: string;
  deleted_at?: string | null;
}

export type FileKind = "image" | "video" | "audio" | "text" | "other";

export interface Provenance {
  tool: string | null;
  prompt: string | null;
  job_id: number | null;
  params: Record<string, unknown>;
}

/** A file as pages, searches and the trash list it: no link of its own (see FileOut). */
export interface ListedFile {
  id: number;
  name: string;
  folder_id: number | null;
  type: FileKind;
  mime_type: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
  thumbnail_url: string | null;
  tags: string[];
  source: string;
  provenance: Provenance | null;
  created_at: string;
  deleted_at?: string | null;
}

/** One file, opened (`GET /drive/files/{id}`, uploads, renames): with the link that plays it. */
export interface FileOut extends ListedFile {
  url: string;
}

export interface ListingOut {
  folder: FolderOut | null;
  breadcrumbs: FolderOut[];
  folders: FolderOut[];
  files: ListedFile[];
  next_cursor: string | null;
}

export interface PageOut {
  files: ListedFile[];
  next_cursor: string | null;
}

export interface TrashOut {
  folders: FolderOut[];
  files: ListedFile[];
  next_cursor: string | null;
}

export interface UsageOut {
  user_bytes: number;
  tenant_bytes: number;
  quota_bytes: number | null;
  max_file_bytes: number;
}

export interface TagCount {
  tag: string;
  files: number;
}

export interface ShareOut {
  id: number;
  file_id: number;
  expires_at: string;
  revoked_at: string | null;
  url: string | null;
}

export type Sort = "name" | "date" | "size" | "type";
export type Order = "asc" | "desc";

// -- catalog ----------------------------------------------------------------------------------

export type Category = "image" | "video" | "audio" | "speech" | "text" | "3d";
export type PricingModel = "per_use" | "per_second" | "per_unit";

export interface CategoryOut {
  category: Category;
  tools: number;
}

export interface ToolOut {
  slug: string;
  name: string;
  description: string;
  category: Category;
  kind: string;
  price: number;
  pricing_model: PricingModel;
  unit_param: string | null;
  input_types: string[];
  output_types: string[];
  favourite: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  "x-media"?: string;
}

export interface ToolDetail extends ToolOut {
  params_schema: JsonSchema;
  examples: Record<string, unknown>[];
  timeout_s: number;
}

export interface QuoteOut {
  tool: string;
  units: number;
  unit_price: number;
  price: number;
}

// -- jobs -------------------------------------------------------------------------------------

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export const ACTIVE: readonly JobStatus[] = ["queued", "running"];

export interface JobError {
  code: string;
  message: string;
}

export interface JobSummary {
  id: number;
  tool: string;
  status: JobStatus;
  progress: number;
  stage: string;
  price: number;
  error: JobError | null;
  file_ids: number[];
  workflow_run_id: number | null;
  step_index: number | null;
  created_at: string;
  finished_at: string | null;
}

export interface OutputFile {
  id: number;
  name: string;
  mime_type: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
  url: string;
  download_url: string;
  thumbnail_url: string | null;
}

export interface JobOut extends JobSummary {
  params: Record<string, unknown>;
  inputs: Record<string, number>;
  text: string | null;
  started_at: string | null;
  outputs: OutputFile[];
}

export interface JobPage {
  jobs: JobSummary[];
  next_cursor: string | null;
}

/** One `event: progress` of the jobs SSE streams. */
export interface ProgressEvent {
  id: number;
  tool: string;
  status: JobStatus;
  progress: number;
  stage: string;
  seq: number;
  error?: { code: string; message: string } | null;
  file_ids?: number[];
  text?: string | null;
}

// -- wallet -----------------------------------------------------------------------------------

export interface WalletOut {
  balance: number;
  reserved: number;
  available: number;
}

export type EntryKind = "credit" | "debit" | "reserve" | "capture" | "release";

export interface EntryOut {
  id: number;
  kind: EntryKind;
  amount: number;
  reserved_delta: number;
  balance_after: number;
  reason: string | null;
  job_id: number | null;
  tool: string | null;
  created_at: string;
}

export interface HistoryOut {
  entries: EntryOut[];
  next_cursor: string | null;
}

export interface PackOut {
  id: number;
  title: string;
  label: string;
  credits: number;
  bonus: number;
  total_credits: number;
  stars: number;
}
