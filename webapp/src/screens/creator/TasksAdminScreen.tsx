/** The creator's tasks: create (a join-a-channel task checks that the bot is an admin there
 * and says so when it is not), see completions and problems, archive, and review the proofs
 * fans sent for custom tasks. */

import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import * as tasks from "../../api/tasks";
import { TASK_KINDS, type ChatCheck, type TaskDraft } from "../../api/tasks";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Modal } from "../../ui/Modal";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useMainButton } from "../../ui/buttons";
import { useResource } from "../../ui/useResource";
import { NumberField } from "./common";
import { GroupPicker } from "./GroupPicker";
import "./creator.css";

const EMPTY: TaskDraft = { kind: "join_channel", title: "", description: "", target: 1, chat: null, reward_xp: 50, reward_credits: 0 };

/** Our own sentence for the problems we know (the server's text is English only). */
function useProblemText() {
  const { t } = useI18n();
  return (problem: string | null | undefined, fallback: string | null | undefined): string => {
    if (problem === "bot_not_admin") return t("tasksadmin.not_admin");
    if (problem === "chat_not_found") return t("tasksadmin.chat_not_found");
    return fallback || t("tasksadmin.not_admin");
  };
}

function NotAdmin({ message }: { message: string }) {
  return (
    <div className="warning" role="alert" data-testid="not-admin">
      <Icon name="shield" />
      <span>{message}</span>
    </div>
  );
}

function TaskForm({ onDone, onClose }: { onDone: () => void; onClose: () => void }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(EMPTY);
  const [check, setCheck] = useState<ChatCheck | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const { busy, run } = useAction();
  const problemText = useProblemText();
  const set = (patch: Partial<TaskDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const checkChat = () =>
    draft.chat &&
    void run("check", () => tasks.checkChat(draft.chat ?? "")).then((found) => {
      if (!found) return;
      setCheck(found);
      setProblem(found.bot_is_admin ? null : problemText(found.problem, found.message));
    });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    try {
      await tasks.createTask({ ...draft, chat: draft.kind === "join_channel" ? draft.chat : null });
      onDone();
      onClose();
    } catch (error) {
      if (error instanceof ApiError && (error.code === "bot_not_admin" || error.code === "chat_not_found")) setProblem(problemText(error.code, error.message));
      else void run("create", () => Promise.reject(error));
    }
  };
  return (
    <Modal title={t("tasksadmin.new")} onClose={onClose} testId="task-form">
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span>{t("tasksadmin.kind")}</span>
          <select value={draft.kind} onChange={(e) => set({ kind: e.target.value as TaskDraft["kind"], target: 1 })} data-testid="task-kind">
            {TASK_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {t(`tasksadmin.kind_${kind}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("tasksadmin.title")}</span>
          <input required maxLength={128} value={draft.title} onChange={(e) => set({ title: e.target.value })} name="title" />
        </label>
        <label className="field">
          <span>{t("tasksadmin.description")}</span>
          <textarea rows={2} maxLength={2000} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
        </label>
        {draft.kind === "join_channel" && (
          <div className="field">
            <GroupPicker value={draft.chat} onPick={(chatId) => { set({ chat: String(chatId) }); setCheck(null); }} testId="task-chat-pick" />
            <span>{t("tasksadmin.chat")}</span>
            <div className="row">
              <input className="spacer" required value={draft.chat ?? ""} onChange={(e) => { set({ chat: e.target.value }); setCheck(null); }} placeholder="@channel" name="chat" data-testid="task-chat" />
              <button type="button" className="button" disabled={busy !== null || !draft.chat} onClick={checkChat} data-testid="check-chat">
                {t("tasksadmin.check")}
              </button>
            </div>
            {check?.bot_is_admin && <span className="ok-text small">{t("tasksadmin.admin_ok", { title: check.title ?? draft.chat ?? "" })}</span>}
          </div>
        )}
        {problem && <NotAdmin message={problem} />}
        {(draft.kind === "invite_friends" || draft.kind === "open_app_streak") && (
          <NumberField label={draft.kind === "invite_friends" ? t("tasksadmin.friends") : t("tasksadmin.days")} value={draft.target} min={1} max={1000} required onChange={(v) => set({ target: v ?? 1 })} />
        )}
        <div className="row">
          <NumberField label={t("tasksadmin.reward_xp")} value={draft.reward_xp} min={0} onChange={(v) => set({ reward_xp: v ?? 0 })} />
          <NumberField label={t("tasksadmin.reward_credits")} value={draft.reward_credits} min={0} onChange={(v) => set({ reward_credits: v ?? 0 })} />
        </div>
        <div className="row end">
          <button type="submit" className="button primary" disabled={busy !== null} data-testid="create-task">
            {t("drive.create")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Submissions({ onReviewed }: { onReviewed: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => tasks.submissions(), []);
  const { busy, run } = useAction();
  const decide = (id: number, approve: boolean) =>
    void run("review", () => tasks.review(id, approve), approve ? t("tasksadmin.approved") : t("tasksadmin.rejected")).then((done) => {
      if (!done) return;
      list.setData((current) => current && { ...current, items: current.items.filter((s) => s.id !== id) });
      onReviewed();
    });
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const items = list.data?.items ?? [];
  if (!items.length) return <Empty icon="check" title={t("tasksadmin.no_submissions")} />;
  return (
    <ul className="rows" data-testid="submissions">
      {items.map((sub) => (
        <li key={sub.id} className="row-item" data-testid="submission">
          <span className="stack tight spacer">
            <strong>{sub.task_title}</strong>
            <span className="small">
              {sub.user_name} {sub.username && <span className="muted">@{sub.username}</span>}
            </span>
            {sub.proof && <q className="proof">{sub.proof}</q>}
            <span className="muted small">{i18n.date(sub.created_at)}</span>
          </span>
          <span className="stack tight">
            <button type="button" className="button primary" disabled={busy !== null} onClick={() => decide(sub.id, true)} data-testid="approve">
              {t("tasksadmin.approve")}
            </button>
            <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => decide(sub.id, false)}>
              {t("tasksadmin.reject")}
            </button>
          </span>
        </li>
      ))}
    </ul>
  );
}

export default function TasksAdminScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource(() => tasks.creatorTasks(), []);
  const [creating, setCreating] = useState(false);
  const { busy, run } = useAction();
  const problemText = useProblemText();
  useMainButton({ text: t("tasksadmin.new"), onClick: () => setCreating(true) });
  return (
    <section className="stack" data-testid="tasks-admin">
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorView error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty icon="task" title={t("tasksadmin.none")} />
      ) : (
        <ul className="rows" data-testid="task-rows">
          {list.data.items.map((task) => (
            <li key={task.id} className="row-item" data-testid="task-row">
              <span className="stack tight spacer">
                <strong>
                  {task.title} {!task.is_active && <span className="badge">{t("tasksadmin.archived")}</span>}
                </strong>
                <span className="muted small">
                  {t(`tasksadmin.kind_${task.kind}`)} · {t("tasksadmin.done_count", { count: i18n.number(task.completed) })}
                  {task.pending > 0 && ` · ${t("tasksadmin.pending_count", { count: i18n.number(task.pending) })}`}
                </span>
                {task.problem && <NotAdmin message={problemText(task.problem, task.problem_message)} />}
              </span>
              <span className="stack tight">
                {task.problem && (
                  <button type="button" className="button" disabled={busy !== null} onClick={() => void run("recheck", () => tasks.recheckTask(task.id)).then(list.reload)}>
                    {t("tasksadmin.recheck")}
                  </button>
                )}
                {task.is_active && (
                  <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => void run("archive", () => tasks.archiveTask(task.id)).then(list.reload)}>
                    {t("tasksadmin.archive")}
                  </button>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h2 className="section-title">{t("tasksadmin.submissions")}</h2>
      <Submissions onReviewed={list.reload} />
      {creating && <TaskForm onDone={list.reload} onClose={() => setCreating(false)} />}
    </section>
  );
}
