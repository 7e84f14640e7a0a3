/** Files from the creator's own drive, by kind, for a post or a broadcast. */

import { useState } from "react";
import * as drive from "../../api/drive";
import type { ListedFile } from "../../api/types";
import { useI18n, type Key } from "../../i18n";
import { Thumb } from "../../ui/media";
import { Modal } from "../../ui/Modal";
import { ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";

type PickKind = "image" | "video" | "audio" | "application";
const PICK_KINDS: [PickKind, Key][] = [
  ["image", "kind.image"],
  ["video", "kind.video"],
  ["audio", "kind.audio"],
  ["application", "content.documents"],
];

/** Media from the creator's drive: newest files first, tap to add or remove. */
export function DrivePicker(props: { chosen: ListedFile[]; max: number; onChange: (files: ListedFile[]) => void; onClose: () => void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<PickKind>("image");
  const files = useResource((signal) => drive.search({ type: kind }, null, signal), [kind]);
  const ids = new Set(props.chosen.map((f) => f.id));
  return (
    <Modal title={t("content.pick_media")} onClose={props.onClose} wide testId="media-picker">
      <div className="chips" role="tablist">
        {PICK_KINDS.map(([value, label]) => (
          <button key={value} type="button" role="tab" className="chip" aria-selected={kind === value} onClick={() => setKind(value)}>
            {t(label)}
          </button>
        ))}
      </div>
      {files.loading ? (
        <Loading />
      ) : files.error ? (
        <ErrorView error={files.error} onRetry={files.reload} />
      ) : !files.data?.files.length ? (
        <span className="muted">{t("form.no_files_hint")}</span>
      ) : (
        <div className="pick-grid">
          {files.data.files.map((file) => (
            <button
              key={file.id}
              type="button"
              className={ids.has(file.id) ? "pick chosen" : "pick"}
              aria-pressed={ids.has(file.id)}
              onClick={() => props.onChange(ids.has(file.id) ? props.chosen.filter((f) => f.id !== file.id) : [...props.chosen, file].slice(-props.max))}
              data-testid="pick-file"
            >
              <Thumb media={file} />
              <span className="ellipsis small">{file.name}</span>
            </button>
          ))}
        </div>
      )}
      <div className="row end">
        <button type="button" className="button primary" onClick={props.onClose} data-testid="pick-done">
          {t("content.done")}
        </button>
      </div>
    </Modal>
  );
}
