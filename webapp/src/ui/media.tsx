/** Thumbnails and players for drive files and job outputs (image, video and audio seek: the
 * download URLs answer Range requests). */

import { useI18n } from "../i18n";
import { Icon, type IconName } from "./icons";

export interface Media {
  name: string;
  mime_type: string;
  url: string;
  thumbnail_url?: string | null;
  download_url?: string;
}

/** What a thumbnail needs: files as pages list them have no link of their own. */
export type Thumbed = Pick<Media, "mime_type" | "thumbnail_url">;

export type MediaKind = "image" | "video" | "audio" | "text" | "other";

export function kindOf(mime: string): MediaKind {
  const main = mime.split("/")[0];
  return main === "image" || main === "video" || main === "audio" || main === "text" ? main : "other";
}

const ICONS: Record<MediaKind, IconName> = {
  image: "image",
  video: "video",
  audio: "audio",
  text: "text",
  other: "file",
};

export function Thumb({ media, className }: { media: Thumbed; className?: string }) {
  const kind = kindOf(media.mime_type);
  if (media.thumbnail_url) {
    return (
      <img
        className={`thumb ${className ?? ""}`}
        src={media.thumbnail_url}
        alt=""
        loading="lazy"
        decoding="async"
        draggable={false}
        data-testid="thumbnail"
      />
    );
  }
  return (
    <span className={`thumb thumb-icon thumb-${kind} ${className ?? ""}`} aria-hidden="true">
      <Icon name={ICONS[kind]} />
    </span>
  );
}

export function MediaPlayer({ media }: { media: Media }) {
  const { t } = useI18n();
  const kind = kindOf(media.mime_type);
  if (kind === "image") {
    return <img className="player player-image" src={media.url} alt={media.name} data-testid="preview-image" />;
  }
  if (kind === "video") {
    return (
      <video className="player player-video" src={media.url} controls playsInline preload="metadata" data-testid="preview-video" />
    );
  }
  if (kind === "audio") {
    return <audio className="player player-audio" src={media.url} controls preload="metadata" data-testid="preview-audio" />;
  }
  return (
    <div className="player player-other">
      <Icon name={ICONS[kind]} className="state-icon" />
      <a className="button" href={media.download_url ?? media.url} target="_blank" rel="noreferrer">
        {t("drive.download")}
      </a>
    </div>
  );
}
