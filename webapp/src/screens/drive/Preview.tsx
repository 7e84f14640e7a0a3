/** A file opened: image, video or audio (with seeking) and what we know about it. */

import * as drive from "../../api/drive";
import type { ListedFile } from "../../api/types";
import { navigate } from "../../app/router";
import { useI18n } from "../../i18n";
import { useBackButton } from "../../ui/buttons";
import { MediaPlayer } from "../../ui/media";
import { Modal } from "../../ui/Modal";
import { ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";

export function Preview({ file, onClose }: { file: ListedFile; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  useBackButton(onClose);
  // Pages list files without a link of their own: it is signed when the file is opened.
  const opened = useResource(() => drive.getFile(file.id), [file.id]);
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
      {opened.data ? (
        <MediaPlayer media={opened.data} />
      ) : opened.error ? (
        <ErrorView error={opened.error} onRetry={opened.reload} />
      ) : (
        <Loading />
      )}
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
        {opened.data && (
          <a className="button primary" href={opened.data.url} download={file.name} target="_blank" rel="noreferrer">
            {t("drive.download")}
          </a>
        )}
      </div>
    </Modal>
  );
}
