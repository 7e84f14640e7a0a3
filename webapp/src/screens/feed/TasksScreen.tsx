/** Tasks and XP: the fan's level with a bar to the next one, the creator's tasks with their
 * status and progress, where to act (a channel, the invite link) and claiming the reward
 * (verified on the server; a custom task sends a proof for the creator to check). */

import { useState } from "react";
import { useLocation } from "../../app/router";
import * as tasks from "../../api/tasks";
import type { FanTask, Level } from "../../api/tasks";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { Icon } from "../../ui/icons";
import { PromptModal } from "../../ui/Modal";
import { Empty, ErrorView, Loading, ProgressBar } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import "./feed.css";

export function LevelBar({ level }: { level: Level }) {
  const { t, number } = useI18n();
  const span = level.next_at === null ? 0 : level.next_at - level.floor;
  const value = span > 0 ? ((level.xp - level.floor) / span) * 100 : 100;
  return (
    <div className="card level stack tight" data-testid="level">
      <div className="row between">
        <strong>{t("tasks.level", { number: level.number, name: level.name })}</strong>
        <span className="muted">{t("tasks.xp", { xp: number(level.xp) })}</span>
      </div>
      <ProgressBar value={value} label={t("tasks.to_next")} testId="xp-bar" />
      <span className="muted small">
        {level.next_at === null ? t("tasks.top_level") : t("tasks.next_at", { xp: number(level.next_at - level.xp) })}
      </span>
    </div>
  );
}

function TaskRow(props: { task: FanTask; highlight: boolean; busy: boolean; onClaim: (task: FanTask) => void }) {
  const { t, number } = useI18n();
  const { task } = props;
  const done = task.status === "completed";
  return (
    <li className={props.highlight ? "card task highlight" : "card task"} data-testid="task" data-status={task.status}>
      <div className="stack tight spacer">
        <strong>{task.title}</strong>
        {task.description && <span className="muted small">{task.description}</span>}
        <span className="small reward">
          <Icon name="star" /> {task.reward.text}
        </span>
        {task.target > 1 && task.progress !== null && (
          <ProgressBar value={(Math.min(task.progress, task.target) / task.target) * 100} label={t("tasks.progress", { done: number(task.progress), target: number(task.target) })} />
        )}
        {task.status === "rejected" && <span className="error-text">{t("tasks.rejected")}</span>}
      </div>
      <div className="stack tight end-text">
        <span className={`badge badge-${task.status}`}>{t(`tasks.status_${task.status}`)}</span>
        {!done && task.action_url && (
          <button type="button" className="button ghost" onClick={() => telegram.openLink(task.action_url ?? "")}>
            {task.kind === "invite_friends" ? t("tasks.share") : t("tasks.open")}
          </button>
        )}
        {!done && task.status !== "pending" && (
          <button type="button" className="button primary" disabled={props.busy} onClick={() => props.onClaim(task)} data-testid="claim">
            {task.kind === "custom" ? t("tasks.send_proof") : t("tasks.claim")}
          </button>
        )}
      </div>
    </li>
  );
}

export default function TasksScreen() {
  const { t } = useI18n();
  const location = useLocation();
  const highlight = (location.state?.task as number | undefined) ?? null;
  const list = useResource(() => tasks.fanTasks(), []);
  const { busy, run } = useAction();
  const [proofFor, setProofFor] = useState<FanTask | null>(null);
  const claim = (task: FanTask, proof: string | null) =>
    run("claim", async () => {
      const result = await tasks.claim(task.id, proof);
      telegram.notify(result.task.status === "completed" ? "success" : "warning");
      toast(result.message, result.task.status === "completed" ? "success" : "info");
      list.setData((current) => current && {
        xp: result.level.xp,
        level: result.level,
        tasks: current.tasks.map((item) => (item.id === task.id ? result.task : item)),
      });
    });
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const data = list.data;
  if (!data) return null;
  return (
    <section className="tasks stack" data-testid="tasks">
      <LevelBar level={data.level} />
      {data.tasks.length === 0 ? (
        <Empty icon="task" title={t("tasks.none")} />
      ) : (
        <ul className="task-list stack">
          {data.tasks.map((task) => (
            <TaskRow key={task.id} task={task} highlight={task.id === highlight} busy={busy !== null} onClaim={(item) => (item.kind === "custom" ? setProofFor(item) : void claim(item, null))} />
          ))}
        </ul>
      )}
      {proofFor && (
        <PromptModal
          title={proofFor.title}
          label={t("tasks.proof")}
          submit={t("tasks.send_proof")}
          onClose={() => setProofFor(null)}
          onSubmit={async (value) => {
            setProofFor(null);
            await claim(proofFor, value);
          }}
        />
      )}
    </section>
  );
}
