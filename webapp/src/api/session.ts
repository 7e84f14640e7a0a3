/** The one API client of the page, made at boot from the launch parameters. */

import { Api } from "./client";

let current: Api | null = null;

export function startApi(botId: number, initData: string): Api {
  current = new Api(botId, initData);
  return current;
}

export function api(): Api {
  if (!current) throw new Error("the API client is used before boot made it");
  return current;
}
