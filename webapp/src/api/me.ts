/** `/api/v1/auth`: the signed-in fan. */

import { api } from "./session";

/** The fan's language for the app and the bot alike (what `/language` sets in the chat). */
export const saveLanguage = (language: string) => api().put<void>("/auth/language", { language });
