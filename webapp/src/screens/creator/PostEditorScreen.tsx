/** Write or edit a post: text (Telegram HTML), teaser, access (free, VIP packages, pay per
 * view in Stars, or a task), media from the drive, pinning, and publish now or at a time. */

import { useEffect, useState, type FormEvent } from "react";
import * as content from "../../api/content";
import type { Access, CreatorPost, PostDraft } from "../../api/content";
import type { ListedFile } from "../../api/types";
import * as tasks from "../../api/tasks";
import { goBack, navigate, useParams } from "../../app/router";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Thumb } from "../../ui/media";
import { ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { NumberField, fromLocalInput, toLocalInput } from "./common";
import { DrivePicker } from "./DrivePicker";
import "./creator.css";

const ACCESS: Access[] = ["free", "vip", "ppv", "task"];

const EMPTY: PostDraft = { text: "", teaser: "", access: "free", price_stars: null, package_ids: [], unlock_task_id: null, file_ids: [], pinned: false };

function draftOf(post: CreatorPost): PostDraft {
  return {
    text: post.text_html,
    teaser: post.teaser,
    access: post.access,
    price_stars: post.price_stars,
    package_ids: post.package_ids,
    unlock_task_id: post.unlock_task_id,
    file_ids: post.media.map((m) => m.file_id),
    pinned: post.pinned,
  };
}

function AccessFields(props: { draft: PostDraft; set: (patch: Partial<PostDraft>) => void }) {
  const { t, number } = useI18n();
  const { draft, set } = props;
  const packages = useResource(() => (draft.access === "vip" ? content.packages() : Promise.resolve({ items: [] })), [draft.access]);
  const taskList = useResource(() => (draft.access === "task" ? tasks.creatorTasks() : Promise.resolve({ items: [] })), [draft.access]);
  return (
    <>
      <fieldset className="field">
        <legend>{t("content.access")}</legend>
        <div className="chips" role="radiogroup">
          {ACCESS.map((access) => (
            <label key={access} className="chip" aria-selected={draft.access === access}>
              <input type="radio" name="access" value={access} checked={draft.access === access} onChange={() => set({ access })} className="sr-only" data-testid={`access-${access}`} />
              {t(`access.${access}`)}
            </label>
          ))}
        </div>
        <span className="muted small">{t(`content.access_${draft.access}`)}</span>
      </fieldset>
      {draft.access === "ppv" && <NumberField name="price" label={t("content.price_stars")} value={draft.price_stars} min={1} max={10000} required onChange={(price_stars) => set({ price_stars })} />}
      {draft.access === "vip" && (
        <fieldset className="field">
          <legend>{t("content.packages")}</legend>
          {packages.data?.items.length === 0 && <span className="muted small">{t("content.no_packages")}</span>}
          {packages.data?.items.map((pkg) => (
            <label key={pkg.id} className="field-inline field">
              <span>
                {pkg.name} · ★{number(pkg.price_stars)}
              </span>
              <input
                type="checkbox"
                checked={draft.package_ids.includes(pkg.id)}
                onChange={(event) => set({ package_ids: event.target.checked ? [...draft.package_ids, pkg.id] : draft.package_ids.filter((id) => id !== pkg.id) })}
              />
            </label>
          ))}
        </fieldset>
      )}
      {draft.access === "task" && (
        <label className="field">
          <span>{t("content.task")}</span>
          <select value={draft.unlock_task_id ?? ""} required onChange={(event) => set({ unlock_task_id: event.target.value ? Number(event.target.value) : null })}>
            <option value="">{t("content.choose_task")}</option>
            {taskList.data?.items.filter((task) => task.is_active).map((task) => (
              <option key={task.id} value={task.id}>
                {task.title}
              </option>
            ))}
          </select>
        </label>
      )}
    </>
  );
}

export default function PostEditorScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const { id } = useParams();
  const postId = id ? Number(id) : null;
  const existing = useResource(() => (postId ? content.creatorPost(postId) : Promise.resolve(null)), [postId]);
  const stats = useResource(() => (postId ? content.postStats(postId) : Promise.resolve(null)), [postId]);
  const [draft, setDraft] = useState<PostDraft>(EMPTY);
  // drive files (an existing post's media carry their `file_id`): sent back as they are
  const [files, setFiles] = useState<ListedFile[]>([]);
  const [schedule, setSchedule] = useState("");
  const [picking, setPicking] = useState(false);
  const { busy, run } = useAction();
  useEffect(() => {
    const post = existing.data;
    if (!post) return;
    setDraft(draftOf(post));
    setSchedule(post.status === "scheduled" ? toLocalInput(post.publish_at) : "");
    setFiles(post.media.map((m) => ({ id: m.file_id, name: m.name, mime_type: m.mime_type, thumbnail_url: m.thumbnail_url }) as ListedFile));
  }, [existing.data]);
  const set = (patch: Partial<PostDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const body = (): PostDraft => ({
    ...draft,
    price_stars: draft.access === "ppv" ? draft.price_stars : null,
    package_ids: draft.access === "vip" ? draft.package_ids : [],
    unlock_task_id: draft.access === "task" ? draft.unlock_task_id : null,
    file_ids: files.map((f) => f.id),
  });
  const save = (publish: boolean) =>
    run("save", async () => {
      const at = fromLocalInput(schedule);
      let post: CreatorPost;
      if (postId) {
        post = await content.updatePost(postId, body());
        if (publish) post = await content.publishPost(postId, at);
      } else {
        post = await content.createPost({ ...body(), publish: publish && !at, publish_at: publish ? at : null });
      }
      toast(publish ? (at ? t("content.scheduled") : t("content.published")) : t("content.saved"), "success");
      if (!postId) navigate(`/creator/content/${post.id}`, { replace: true });
      else existing.setData(() => post);
      return post;
    });
  const remove = () =>
    postId &&
    window.confirm(t("content.delete_confirm")) &&
    run("delete", async () => {
      await content.deletePost(postId);
      goBack("/creator/content");
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(true);
  };
  if (existing.loading && !existing.data) return <Loading />;
  if (existing.error) return <ErrorView error={existing.error} onRetry={existing.reload} />;
  const post = existing.data;
  return (
    <form className="editor stack" onSubmit={submit} data-testid="post-editor">
      {post && (
        <div className="row between small">
          <span className={`badge badge-${post.status}`}>{t(`content.status_${post.status}`)}</span>
          {stats.data && (
            <span className="muted" data-testid="post-stats">
              {t("content.numbers", { views: i18n.number(stats.data.views), unlocks: i18n.number(stats.data.unlocks), stars: i18n.number(stats.data.revenue_stars) })}
            </span>
          )}
        </div>
      )}
      <label className="field">
        <span>{t("content.text")}</span>
        <textarea name="text" rows={6} value={draft.text} onChange={(event) => set({ text: event.target.value })} placeholder={t("content.text_hint")} data-testid="post-text" />
      </label>
      <label className="field">
        <span>{t("content.teaser")}</span>
        <input name="teaser" maxLength={280} value={draft.teaser} onChange={(event) => set({ teaser: event.target.value })} placeholder={t("content.teaser_hint")} data-testid="post-teaser" />
      </label>
      <div className="field">
        <span>{t("content.media")}</span>
        <div className="media-strip">
          {files.map((file) => (
            <span key={file.id} className="media-chip">
              <Thumb media={file} className="mini" />
              <button type="button" className="icon-button" aria-label={t("content.remove_media", { name: file.name })} onClick={() => setFiles(files.filter((f) => f.id !== file.id))}>
                <Icon name="close" />
              </button>
            </span>
          ))}
          <button type="button" className="button" onClick={() => setPicking(true)} data-testid="add-media">
            <Icon name="plus" /> {t("content.add_media")}
          </button>
        </div>
      </div>
      <AccessFields draft={draft} set={set} />
      <label className="field field-inline">
        <span>{t("content.pinned")}</span>
        <input type="checkbox" checked={draft.pinned} onChange={(event) => set({ pinned: event.target.checked })} data-testid="post-pinned" />
      </label>
      <label className="field">
        <span>{t("content.schedule")}</span>
        <input type="datetime-local" value={schedule} onChange={(event) => setSchedule(event.target.value)} data-testid="post-schedule" />
        <span className="muted small">{t("content.schedule_hint")}</span>
      </label>
      <div className="row end">
        {post && (
          <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => void remove()}>
            {t("content.delete")}
          </button>
        )}
        {post?.status !== "draft" && post && (
          <button type="button" className="button ghost" disabled={busy !== null} onClick={() => void run("unpublish", () => content.unpublishPost(post.id), t("content.unpublished")).then((p) => p && existing.setData(() => p))}>
            {t("content.unpublish")}
          </button>
        )}
        <button type="button" className="button" disabled={busy !== null} onClick={() => void save(false)} data-testid="save-draft">
          {t("content.save_draft")}
        </button>
        <button type="submit" className="button primary" disabled={busy !== null} data-testid="publish">
          {schedule ? t("content.schedule_action") : t("content.publish")}
        </button>
      </div>
      {picking && <DrivePicker chosen={files} max={10} onChange={setFiles} onClose={() => setPicking(false)} />}
    </form>
  );
}
