/** The creator's posts: drafts, scheduled and published, newest first, with pin, publish and
 * unpublish at hand and each post's numbers. */

import * as content from "../../api/content";
import type { CreatorPost } from "../../api/content";
import { Link, navigate } from "../../app/router";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Thumb } from "../../ui/media";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useMainButton } from "../../ui/buttons";
import { useResource } from "../../ui/useResource";
import "./creator.css";

function excerpt(html: string, teaser: string): string {
  const text = teaser || html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export default function ContentScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const list = useResource((signal) => content.posts(null, signal), []);
  const { busy, run } = useAction();
  useMainButton({ text: t("content.new"), onClick: () => navigate("/creator/content/new") });
  const replace = (post: CreatorPost) =>
    list.setData((current) => current && { ...current, items: current.items.map((p) => (p.id === post.id ? post : p)) });
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorView error={list.error} onRetry={list.reload} />;
  const items = list.data?.items ?? [];
  if (!items.length) return <Empty icon="feed" title={t("content.empty")} hint={t("content.empty_hint")} />;
  return (
    <ul className="rows posts-admin" data-testid="posts">
      {items.map((post) => (
        <li key={post.id} className="row-item post-row" data-testid="post-row" data-status={post.status}>
          <Link to={`/creator/content/${post.id}`} className="row spacer plain">
            {post.media[0] ? <Thumb media={post.media[0]} className="mini" /> : <span className="thumb thumb-icon mini"><Icon name="text" /></span>}
            <span className="stack tight">
              <span className="row small">
                <span className={`badge badge-${post.status}`}>{t(`content.status_${post.status}`)}</span>
                <span className="badge">{t(`access.${post.access}`)}</span>
                {post.pinned && <Icon name="pin" aria-label={t("feed.pinned")} />}
              </span>
              <span className="ellipsis">{excerpt(post.text_html, post.teaser) || t("content.untitled")}</span>
              <span className="muted small">
                {post.status === "scheduled" && post.publish_at ? t("content.scheduled_for", { date: i18n.date(post.publish_at) }) : i18n.date(post.published_at ?? post.updated_at)}
              </span>
            </span>
          </Link>
          <span className="row">
            <button type="button" className="icon-button" title={post.pinned ? t("content.unpin") : t("content.pin")} aria-label={post.pinned ? t("content.unpin") : t("content.pin")} disabled={busy !== null} onClick={() => void run("pin", () => content.pinPost(post.id, !post.pinned)).then((p) => p && replace(p))}>
              <Icon name="pin" fill={post.pinned ? "currentColor" : "none"} />
            </button>
            {post.status === "draft" ? (
              <button type="button" className="button primary" disabled={busy !== null} onClick={() => void run("publish", () => content.publishPost(post.id), t("content.published")).then((p) => p && replace(p))} data-testid="publish">
                {t("content.publish")}
              </button>
            ) : (
              <button type="button" className="button ghost" disabled={busy !== null} onClick={() => void run("unpublish", () => content.unpublishPost(post.id), t("content.unpublished")).then((p) => p && replace(p))} data-testid="unpublish">
                {t("content.unpublish")}
              </button>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}
