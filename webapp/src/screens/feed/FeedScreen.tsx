/** The fan's feed: the creator's posts, pinned first. A locked post shows its blurred preview
 * and how to open it (Stars, TON, a VIP package or a task); an open one its text and media. */

import { useEffect, useRef, useState } from "react";
import * as content from "../../api/content";
import type { Post } from "../../api/content";
import { markInteractive } from "../../app/perf";
import { Link, navigate } from "../../app/router";
import { useI18n, type Key } from "../../i18n";
import { telegram, type InvoiceStatus } from "../../telegram/webapp";
import { PayWithTon } from "../../ton/PayWithTon";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { MediaPlayer, Thumb } from "../../ui/media";
import { Modal } from "../../ui/Modal";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useMore } from "../../ui/useMore";
import { useResource } from "../../ui/useResource";
import "./feed.css";

/** The bot unlocks a post when Telegram confirms the payment: look again a few times. */
const REFRESH_AFTER_PAY_MS = [1000, 2500, 5000, 10000, 20000];

export function usePayResult(opened: Key = "feed.pay_in_telegram") {
  const { t } = useI18n();
  return (status: InvoiceStatus) => {
    if (status === "paid") {
      telegram.notify("success");
      toast(t("feed.paid"), "success");
    } else if (status === "opened") {
      toast(t(opened));
    } else if (status === "failed") {
      telegram.notify("error");
      toast(t("wallet.pay_failed"), "error");
    }
    return status === "paid" || status === "opened" || status === "pending";
  };
}

function Unlock({ post, onPaid }: { post: Post; onPaid: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [busy, setBusy] = useState(false);
  const payResult = usePayResult();
  const unlock = post.unlock;
  if (!unlock) return null;
  const pay = async (link: () => Promise<content.InvoiceLink>) => {
    setBusy(true);
    telegram.impact("light");
    try {
      const { invoice_link } = await link();
      if (payResult(await telegram.openInvoice(invoice_link))) onPaid();
    } catch (error) {
      toast(errorMessage(i18n, error), "error");
    } finally {
      setBusy(false);
    }
  };
  if (unlock.kind === "ppv") {
    return (
      <div className="unlock row end">
        <PayWithTon kind="ppv" itemId={post.id} onPaid={onPaid} />
        <button type="button" className="button primary" disabled={busy} onClick={() => void pay(() => content.postInvoice(post.id))} data-testid="unlock-stars">
          <Icon name="unlock" />
          {t("feed.unlock_for")}
          <Icon name="star" fill="currentColor" />
          <span className="sr-only">{t("wallet.stars")}</span>
          {i18n.number(unlock.price_stars ?? 0)}
        </button>
      </div>
    );
  }
  if (unlock.kind === "vip") {
    return (
      <div className="unlock stack tight">
        <span className="muted small">{t("feed.vip_only")}</span>
        <div className="row end wrap">
          {unlock.packages.map((pkg) => (
            <button key={pkg.id} type="button" className="button primary" disabled={busy} onClick={() => void pay(() => content.vipInvoice(pkg.id))} data-testid="unlock-vip">
              <Icon name="crown" />
              {pkg.name} · <Icon name="star" fill="currentColor" />
              {i18n.number(pkg.price_stars)}
            </button>
          ))}
          <Link to="/feed/vip" className="button ghost">
            {t("feed.see_vip")}
          </Link>
        </div>
      </div>
    );
  }
  return (
    <div className="unlock row end">
      <span className="muted small spacer">{t("feed.task_unlock")}</span>
      <button type="button" className="button primary" onClick={() => navigate("/feed/tasks", { state: { task: unlock.task_id } })} data-testid="unlock-task">
        <Icon name="task" />
        {t("feed.open_task")}
      </button>
    </div>
  );
}

function PostMediaGrid({ post }: { post: Post }) {
  const [open, setOpen] = useState<content.PostMedia | null>(null);
  const { t } = useI18n();
  return (
    <>
      <div className={`post-media count-${Math.min(post.media.length, 3)}`}>
        {post.media.map((item) => (
          <button key={item.id} type="button" className="post-media-item" onClick={() => setOpen(item)} data-testid="post-media" aria-label={item.name}>
            <Thumb media={item} />
          </button>
        ))}
      </div>
      {open && (
        <Modal title={open.name} onClose={() => setOpen(null)} wide testId="media-viewer">
          <MediaPlayer media={{ ...open, download_url: open.url }} />
          <span className="muted small">{t("feed.media_of", { n: post.media.indexOf(open) + 1, count: post.media.length })}</span>
        </Modal>
      )}
    </>
  );
}

/** Count a view once the card is half on screen (the server counts once per fan and post). */
function useViewCount(post: Post) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const node = ref.current;
    if (!node || post.locked) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          observer.disconnect();
          content.viewPost(post.id).catch(() => undefined);
        }
      },
      { threshold: 0.5 },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [post.id, post.locked]);
  return ref;
}

export function PostCard({ post, onChanged }: { post: Post; onChanged: (post: Post) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const ref = useViewCount(post);
  const refreshSoon = () => {
    for (const delay of REFRESH_AFTER_PAY_MS) {
      window.setTimeout(() => {
        content.post(post.id).then(onChanged, () => undefined);
      }, delay);
    }
  };
  return (
    <article ref={ref} className={post.locked ? "post card locked" : "post card"} data-testid="post" data-post-id={post.id} data-locked={post.locked}>
      <header className="row between small muted">
        <span className="row">
          {post.pinned && (
            <span className="badge" data-testid="pinned">
              <Icon name="pin" /> {t("feed.pinned")}
            </span>
          )}
          {post.access !== "free" && <span className="badge">{t(`access.${post.access}`)}</span>}
        </span>
        {post.published_at && <time dateTime={post.published_at}>{i18n.date(post.published_at)}</time>}
      </header>
      {post.locked ? (
        <>
          <div className="locked-preview">
            {post.preview_url ? (
              <img src={post.preview_url} alt="" className="blurred" data-testid="blurred-preview" />
            ) : (
              <div className="blurred placeholder" data-testid="blurred-preview" />
            )}
            <span className="lock-badge">
              <Icon name="lock" />
              {post.media_count > 0 && t("feed.media_count", { count: post.media_count })}
            </span>
          </div>
          {post.teaser && <p className="teaser">{post.teaser}</p>}
          <Unlock post={post} onPaid={refreshSoon} />
        </>
      ) : (
        <>
          {/* Telegram's HTML subset, sanitized by the server */}
          {post.text_html && <div className="post-text" dangerouslySetInnerHTML={{ __html: post.text_html }} />}
          {post.media.length > 0 && <PostMediaGrid post={post} />}
        </>
      )}
    </article>
  );
}

export default function FeedScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const page = useResource((signal) => content.feed(null, signal), []);
  useEffect(() => {
    if (page.data) markInteractive();
  }, [page.data]);
  useEffect(() => {
    const refresh = () => document.visibilityState === "visible" && page.reload();
    document.addEventListener("visibilitychange", refresh);
    return () => document.removeEventListener("visibilitychange", refresh);
  }, [page.reload]);
  const replace = (post: Post) =>
    page.setData((current) => current && { ...current, items: current.items.map((item) => (item.id === post.id ? post : item)) });
  const { more, loadMore } = useMore(
    page,
    (cursor) => content.feed(cursor),
    (current, next) => ({ items: [...current.items, ...next.items], next_cursor: next.next_cursor }),
  );
  return (
    <section className="feed">
      <nav className="chips">
        <Link to="/feed/vip" className="chip" data-testid="open-vip">
          <Icon name="crown" /> {t("vip.title")}
        </Link>
        <Link to="/feed/tasks" className="chip" data-testid="open-tasks">
          <Icon name="task" /> {t("tasks.title")}
        </Link>
      </nav>
      {page.error ? (
        <ErrorView error={page.error} onRetry={page.reload} />
      ) : !page.data ? (
        <Loading />
      ) : page.data.items.length === 0 ? (
        <Empty icon="feed" title={t("feed.empty")} hint={t("feed.empty_hint")} />
      ) : (
        <div className="posts stack" data-testid="feed">
          {page.data.items.map((post) => (
            <PostCard key={post.id} post={post} onChanged={replace} />
          ))}
          {page.data.next_cursor && (
            <button type="button" className="button ghost wide" disabled={more} onClick={() => void loadMore()}>
              {more ? t("common.loading") : t("common.more")}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
