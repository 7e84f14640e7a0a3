/** Pieces shared by the creator panel's screens. */

import type { ReactNode } from "react";
import type { Key } from "../../i18n";
import { useI18n } from "../../i18n";
import { Icon, type IconName } from "../../ui/icons";

export function Stat(props: { label: string; value: number | string; hint?: string; testId?: string; delta?: ReactNode }) {
  const { number } = useI18n();
  return (
    <div className="stat" data-testid={props.testId}>
      <span className="muted small">{props.label}</span>
      <span className="row">
        <strong className="stat-value">{typeof props.value === "number" ? number(props.value) : props.value}</strong>
        {props.delta}
      </span>
      {props.hint && <span className="muted small">{props.hint}</span>}
    </div>
  );
}

export function Stats({ children }: { children: ReactNode }) {
  return <div className="stats-grid">{children}</div>;
}

/** A labelled number input that reads as a number (empty: null). */
export function NumberField(props: {
  label: string;
  value: number | null;
  onChange: (value: number | null) => void;
  min?: number;
  max?: number;
  required?: boolean;
  name?: string;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="number"
        inputMode="numeric"
        name={props.name}
        min={props.min}
        max={props.max}
        required={props.required}
        value={props.value ?? ""}
        onChange={(event) => props.onChange(event.target.value === "" ? null : Number(event.target.value))}
      />
    </label>
  );
}

export interface SectionDef {
  path: string;
  label: Key;
  icon: IconName;
  testId: string;
}

export const SECTIONS: SectionDef[] = [
  { path: "/creator/stats", label: "creator.stats", icon: "panel", testId: "section-stats" },
  { path: "/creator/content", label: "creator.content", icon: "feed", testId: "section-content" },
  { path: "/creator/vip", label: "creator.vip", icon: "crown", testId: "section-vip" },
  { path: "/creator/tasks", label: "creator.tasks", icon: "task", testId: "section-tasks" },
  { path: "/creator/broadcasts", label: "creator.broadcasts", icon: "send", testId: "section-broadcasts" },
  { path: "/creator/users", label: "creator.users", icon: "users", testId: "section-users" },
  { path: "/creator/texts", label: "creator.texts", icon: "chat", testId: "section-texts" },
  { path: "/creator/settings", label: "creator.settings", icon: "settings", testId: "section-settings" },
  { path: "/creator/plan", label: "creator.plan", icon: "gauge", testId: "section-plan" },
  { path: "/creator/groups", label: "creator.groups", icon: "users", testId: "section-groups" },
  { path: "/creator/admins", label: "creator.admins", icon: "shield", testId: "section-admins" },
  { path: "/creator/ton", label: "creator.ton", icon: "ton", testId: "section-ton" },
];

export function SectionIcon({ name }: { name: IconName }) {
  return (
    <span className="section-icon" aria-hidden="true">
      <Icon name={name} />
    </span>
  );
}

/** `<input type="datetime-local">` value ⇄ ISO with the browser's offset. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export const EVENT_KEYS: Record<string, Key> = {
  joined: "event.joined",
  payment: "event.payment",
  generation: "event.generation",
  credits: "event.credits",
  task: "event.task",
  referral: "event.referral",
};
