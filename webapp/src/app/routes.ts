/**
 * Every screen and tab of the app, in one table. A new area (the creator panel, a content
 * feed, a TON wallet) is one lazy route here and, if it deserves one, one tab: the shell,
 * the API client, i18n and the Telegram adapter need no change.
 */

import type { Key } from "../i18n";
import type { IconName } from "../ui/icons";
import { screen, type Screen } from "./screen";

export type TabId = "drive" | "store" | "jobs" | "wallet";

export interface TabDef {
  id: TabId;
  path: string;
  label: Key;
  icon: IconName;
}

export interface RouteDef {
  pattern: string;
  tab: TabId;
  /** A tab's first screen: no back button. */
  root?: boolean;
  screen: Screen;
}

const Drive = screen(() => import("../screens/drive/DriveScreen"));
const Trash = screen(() => import("../screens/drive/TrashScreen"));
const Store = screen(() => import("../screens/store/StoreScreen"));
const Tool = screen(() => import("../screens/store/ToolScreen"));
const Jobs = screen(() => import("../screens/jobs/JobsScreen"));
const Job = screen(() => import("../screens/jobs/JobScreen"));
const Wallet = screen(() => import("../screens/wallet/WalletScreen"));

export const TABS: TabDef[] = [
  { id: "drive", path: "/", label: "tab.drive", icon: "drive" },
  { id: "store", path: "/store", label: "tab.store", icon: "store" },
  { id: "jobs", path: "/jobs", label: "tab.jobs", icon: "jobs" },
  { id: "wallet", path: "/wallet", label: "tab.wallet", icon: "wallet" },
];

export const ROUTES: RouteDef[] = [
  { pattern: "/", tab: "drive", root: true, screen: Drive },
  { pattern: "/drive/:folder", tab: "drive", screen: Drive },
  { pattern: "/trash", tab: "drive", screen: Trash },
  { pattern: "/store", tab: "store", root: true, screen: Store },
  { pattern: "/store/:slug", tab: "store", screen: Tool },
  { pattern: "/jobs", tab: "jobs", root: true, screen: Jobs },
  { pattern: "/jobs/:id", tab: "jobs", screen: Job },
  { pattern: "/wallet", tab: "wallet", root: true, screen: Wallet },
];

/** Warm a tab's chunk before it is tapped (on hover/touch of the tab). */
export const PRELOAD: Record<TabId, () => Promise<unknown>> = {
  drive: Drive.preload,
  store: Store.preload,
  jobs: Jobs.preload,
  wallet: Wallet.preload,
};
