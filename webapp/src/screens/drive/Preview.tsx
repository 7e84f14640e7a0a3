/** A file opened: image, video or audio (with seeking) and what we know about it. */

import type { FileOut } from "../../api/types";
import { navigate } from "../../app/router";
import { useI18n } from "../../i18n";
import { useBackButton } from "../../ui/buttons";
import { MediaPlayer } from "../../ui/media";
import { Modal } from "../../ui/Modal";

export function Preview({ file, onClose }: { file: FileOut; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  useBackButton(onClose);
  const details: [string, string][] = [
    [t("drive.size"), i18n.bytes(file.size)],
    [t("drive.created"), i18n.date(file.created_at)],
  ];
  if (file.width && file.height) details.push([t("drive.dimensions"), `${file.width}×${file.height}`]);
  if (file.duration) details.push([t("drive.duration"), i18n.seconds(file.duration)]);
  if (file.tags.length) details.push([t("drive.tags"), file.tags.join(", ")]);
  const made = file.provenance;
  if (made?.tool) details.push([t("drive.made_with"), made.tool]);
  if (made?.prompt) details.push([t("drive.prompt"), made.prompt]);
  return (
    <Modal title={file.name} onClose={onClose} wide testId="preview">
      <MediaPlayer media={file} />
      <dl className="details">
        {details.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <div className="row end">
        {made?.tool && (
          <button
            type="button"
            className="button"
            onClick={() => {
              onClose();
              navigate(`/store/${made.tool}`, { state: { prefill: made.params } });
            }}
          >
            {t("drive.run_again")}
          </button>
        )}
        <a className="button primary" href={file.url} download={file.name} target="_blank" rel="noreferrer">
          {t("drive.download")}
        </a>
      </div>
    </Modal>
  );
}
