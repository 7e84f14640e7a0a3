/** A fan's conversation with the bot as chat bubbles: the fan on the start side, the bot on the
 * end side (mirrored in right-to-left languages), oldest at the top, older pages on demand. */

import * as creator from "../../api/creator";
import type { ChatMessage } from "../../api/creator";
import { useI18n, type Key } from "../../i18n";
import { Icon, type IconName } from "../../ui/icons";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useMore } from "../../ui/useMore";
import { useResource } from "../../ui/useResource";

const KIND_ICONS: Record<string, IconName> = {
  photo: "image",
  video: "video",
  video_note: "video",
  animation: "video",
  voice: "audio",
  audio: "audio",
  document: "file",
  album: "image",
  sticker: "star",
  payment: "wallet",
  invoice: "wallet",
  button: "check",
  command: "forward",
  location: "pin",
};

const KIND_LABELS: Record<string, Key> = {
  command: "chat.kind.command",
  button: "chat.kind.button",
  photo: "chat.kind.photo",
  album: "chat.kind.photo",
  video: "chat.kind.video",
  video_note: "chat.kind.video",
  animation: "chat.kind.video",
  voice: "chat.kind.voice",
  audio: "chat.kind.audio",
  document: "chat.kind.document",
  sticker: "chat.kind.sticker",
  payment: "chat.kind.payment",
  invoice: "chat.kind.invoice",
};

function Bubble({ message }: { message: ChatMessage }) {
  const i18n = useI18n();
  const { t } = i18n;
  const icon = KIND_ICONS[message.kind];
  const plain = message.kind === "text";
  const label = t(KIND_LABELS[message.kind] ?? "chat.kind.other");
  return (
    <li className={`bubble ${message.direction}`} data-testid={`message-${message.direction}`}>
      <span className="sr-only">{message.direction === "in" ? t("users.from_fan") : t("users.from_bot")}: </span>
      {!plain && (
        <span className="bubble-kind small" title={label}>
          {icon && <Icon name={icon} aria-hidden="true" className={icon === "forward" ? "flip-rtl" : undefined} />}
          {label}
        </span>
      )}
      {message.text && (
        <span className="bubble-text" dir="auto">
          {message.text}
        </span>
      )}
      <time className="bubble-time small" dateTime={message.created_at}>
        {i18n.date(message.created_at)}
      </time>
    </li>
  );
}

export default function FanMessages({ userId }: { userId: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const page = useResource(() => creator.fanMessages(userId, null), [userId]);

  const { more, loadMore: loadOlder } = useMore(
    page,
    (cursor) => creator.fanMessages(userId, cursor),
    (current, next) => ({ items: [...current.items, ...next.items], next_cursor: next.next_cursor }),
  );

  if (page.loading && !page.data) return <Loading />;
  if (page.error) return <ErrorView error={page.error} onRetry={page.reload} />;
  if (!page.data?.items.length) return <Empty icon="send" title={t("users.no_messages")} hint={t("users.no_messages_hint")} />;
  return (
    <div className="stack" data-testid="user-messages">
      {page.data.next_cursor && (
        <button type="button" className="button ghost wide" disabled={more} onClick={() => void loadOlder()} data-testid="older-messages">
          {more ? t("common.loading") : t("users.older")}
        </button>
      )}
      <ol className="bubbles">
        {[...page.data.items].reverse().map((message) => (
          <Bubble key={message.id} message={message} />
        ))}
      </ol>
    </div>
  );
}
