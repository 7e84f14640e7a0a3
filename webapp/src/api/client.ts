/**
 * The API client: bearer auth from Telegram's initData, one error type, re-auth on 401.
 *
 * The token lives in memory and in sessionStorage (per bot), never in localStorage: it is
 * short-lived and a closed Mini App should not keep a session. When a call answers 401 the
 * token is dropped, the page signs in again with the launch data and repeats the call once;
 * if the launch data itself is refused (too old, another bot) the error reaches the screen,
 * which asks the fan to reopen the app from the bot.
 */

import { userOf } from "../telegram/launch";
import type { SignInResponse } from "./types";

export const API_BASE = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Per-field messages of a 422 (`{"fields": {...}}` or FastAPI's list of `{field, message}`). */
  fieldErrors(): Record<string, string> {
    const fields = this.details?.fields;
    const out: Record<string, string> = {};
    if (Array.isArray(fields)) {
      for (const item of fields as { field?: string; message?: string }[]) {
        const name = (item.field ?? "").split(".").pop() ?? "";
        if (name) out[name] = item.message ?? "";
      }
    } else if (fields && typeof fields === "object") {
      for (const [name, message] of Object.entries(fields)) out[name] = String(message);
    }
    return out;
  }
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page
  }
  const error = (body as { error?: { code?: string; message?: string; details?: unknown } })?.error;
  return new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? response.statusText,
    (error?.details as Record<string, unknown>) ?? null,
  );
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface Session {
  token: string;
  expiresAt: number;
  response: SignInResponse;
}

const EXPIRY_MARGIN_S = 30;

export class Api {
  private session: Session | null = null;
  private pending: Promise<Session> | null = null;
  private readonly storageKey: string;

  constructor(
    readonly botId: number,
    private readonly initData: string,
  ) {
    // per bot and Telegram user: another account in the same tab must not reuse the token
    this.storageKey = `atelier.session.${botId}.${userOf(initData)?.id ?? 0}`;
    this.session = this.restore();
  }

  private restore(): Session | null {
    try {
      const saved = JSON.parse(sessionStorage.getItem(this.storageKey) ?? "null") as Session | null;
      return saved && this.fresh(saved) ? saved : null;
    } catch {
      return null;
    }
  }

  private fresh(session: Session): boolean {
    return session.expiresAt - EXPIRY_MARGIN_S > Date.now() / 1000;
  }

  /** Trade initData for a token (concurrent callers share one request). */
  signIn(): Promise<Session> {
    this.pending ??= this.exchange().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async exchange(): Promise<Session> {
    if (!this.initData) {
      throw new ApiError(401, "no_init_data", "The app was opened without Telegram launch data.");
    }
    const response = await fetch(`${API_BASE}/auth/telegram`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ bot_id: this.botId, init_data: this.initData }),
    }).catch(() => null);
    if (!response) throw new ApiError(0, "network", "The network is unreachable.");
    if (!response.ok) throw await errorFrom(response);
    const body = (await response.json()) as SignInResponse;
    const session = { token: body.token, expiresAt: body.expires_at, response: body };
    this.session = session;
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify(session));
    } catch {
      // memory is enough
    }
    return session;
  }

  async ensureSession(): Promise<Session> {
    if (this.session && this.fresh(this.session)) return this.session;
    return this.signIn();
  }

  async token(): Promise<string> {
    return (await this.ensureSession()).token;
  }

  forget(): void {
    this.session = null;
    try {
      sessionStorage.removeItem(this.storageKey);
    } catch {
      // nothing stored
    }
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, true);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    retry: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    headers.Authorization = `Bearer ${await this.token()}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const url = withQuery(`${API_BASE}${path}`, options.query);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal: options.signal });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw new ApiError(0, "network", "The network is unreachable.");
    }
    if (response.status === 401 && retry) {
      this.forget();
      return this.send(method, path, options, false);
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { query, signal });
  }

  post<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>("POST", path, { json });
  }

  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { json });
  }

  put<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>("PUT", path, { json });
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }
}
