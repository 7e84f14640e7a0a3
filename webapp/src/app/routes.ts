/**
 * Every screen and tab of the app, in one table. A new area (the creator panel, a content
 * feed, a TON wallet) is one lazy route here and, if it deserves one, one tab: the shell,
 * the API client, i18n and the Telegram adapter need no change.
 */

import type { Key } from "../i18n";
import type { IconName } from "../ui/icons";
import { screen, type Screen } from "./screen";

export type TabId = "drive" | "store" | "jobs" | "feed" | "wallet" | "creator";

export interface TabDef {
  id: TabId;
  path: string;
  label: Key;
  icon: IconName;
  /** Shown only to the bot's owner and co-admins (`/creator/me` answers 200). */
  creatorOnly?: boolean;
}

export interface RouteDef {
  pattern: string;
  tab: TabId;
  /** A tab's first screen: no back button. */
  root?: boolean;
  /** The top bar's title, when not the tab's name. */
  title?: Key;
  screen: Screen;
}

const Drive = screen(() => import("../screens/drive/DriveScreen"));
const Trash = screen(() => import("../screens/drive/TrashScreen"));
const Store = screen(() => import("../screens/store/StoreScreen"));
const Tool = screen(() => import("../screens/store/ToolScreen"));
const Jobs = screen(() => import("../screens/jobs/JobsScreen"));
const Job = screen(() => import("../screens/jobs/JobScreen"));
const Wallet = screen(() => import("../screens/wallet/WalletScreen"));
const Feed = screen(() => import("../screens/feed/FeedScreen"));
const Vip = screen(() => import("../screens/feed/VipScreen"));
const Tasks = screen(() => import("../screens/feed/TasksScreen"));
const Panel = screen(() => import("../screens/creator/PanelScreen"));
const Stats = screen(() => import("../screens/creator/StatsScreen"));
const Content = screen(() => import("../screens/creator/ContentScreen"));
const PostEditor = screen(() => import("../screens/creator/PostEditorScreen"));
const VipAdmin = screen(() => import("../screens/creator/VipAdminScreen"));
const TasksAdmin = screen(() => import("../screens/creator/TasksAdminScreen"));
const Broadcasts = screen(() => import("../screens/creator/BroadcastsScreen"));
const Broadcast = screen(() => import("../screens/creator/BroadcastScreen"));
const Users = screen(() => import("../screens/creator/UsersScreen"));
const UserDetail = screen(() => import("../screens/creator/UserScreen"));
const Texts = screen(() => import("../screens/creator/TextsScreen"));
const Settings = screen(() => import("../screens/creator/SettingsScreen"));
const Plan = screen(() => import("../screens/creator/PlanScreen"));
const Groups = screen(() => import("../screens/creator/GroupsScreen"));
const Admins = screen(() => import("../screens/creator/AdminsScreen"));
const TonEarnings = screen(() => import("../screens/creator/TonScreen"));

export const TABS: TabDef[] = [
  { id: "drive", path: "/", label: "tab.drive", icon: "drive" },
  { id: "store", path: "/store", label: "tab.store", icon: "store" },
  { id: "jobs", path: "/jobs", label: "tab.jobs", icon: "jobs" },
  { id: "feed", path: "/feed", label: "tab.feed", icon: "feed" },
  { id: "wallet", path: "/wallet", label: "tab.wallet", icon: "wallet" },
  { id: "creator", path: "/creator", label: "tab.creator", icon: "panel", creatorOnly: true },
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
  { pattern: "/feed", tab: "feed", root: true, screen: Feed },
  { pattern: "/feed/vip", tab: "feed", title: "vip.title", screen: Vip },
  { pattern: "/feed/tasks", tab: "feed", title: "tasks.title", screen: Tasks },
  { pattern: "/creator", tab: "creator", root: true, screen: Panel },
  { pattern: "/creator/stats", tab: "creator", title: "creator.stats", screen: Stats },
  { pattern: "/creator/content", tab: "creator", title: "creator.content", screen: Content },
  { pattern: "/creator/content/new", tab: "creator", title: "content.new", screen: PostEditor },
  { pattern: "/creator/content/:id", tab: "creator", title: "creator.content", screen: PostEditor },
  { pattern: "/creator/vip", tab: "creator", title: "creator.vip", screen: VipAdmin },
  { pattern: "/creator/tasks", tab: "creator", title: "creator.tasks", screen: TasksAdmin },
  { pattern: "/creator/broadcasts", tab: "creator", title: "creator.broadcasts", screen: Broadcasts },
  { pattern: "/creator/broadcasts/:id", tab: "creator", title: "creator.broadcasts", screen: Broadcast },
  { pattern: "/creator/users", tab: "creator", title: "creator.users", screen: Users },
  { pattern: "/creator/users/:id", tab: "creator", title: "creator.users", screen: UserDetail },
  { pattern: "/creator/texts", tab: "creator", title: "creator.texts", screen: Texts },
  { pattern: "/creator/settings", tab: "creator", title: "creator.settings", screen: Settings },
  { pattern: "/creator/plan", tab: "creator", title: "creator.plan", screen: Plan },
  { pattern: "/creator/groups", tab: "creator", title: "creator.groups", screen: Groups },
  { pattern: "/creator/admins", tab: "creator", title: "creator.admins", screen: Admins },
  { pattern: "/creator/ton", tab: "creator", title: "creator.ton", screen: TonEarnings },
];

/** Warm a tab's chunk before it is tapped (on hover/touch of the tab). */
export const PRELOAD: Record<TabId, () => Promise<unknown>> = {
  drive: Drive.preload,
  store: Store.preload,
  jobs: Jobs.preload,
  feed: Feed.preload,
  wallet: Wallet.preload,
  creator: Panel.preload,
};
