/** Uploads in flight, each with a progress bar fed by XMLHttpRequest's progress events. */

import { useCallback, useRef, useState } from "react";
import { uploadFile, type UploadHandle } from "../../api/upload";
import type { FileOut } from "../../api/types";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { ProgressBar } from "../../ui/states";

interface Upload {
  id: number;
  name: string;
  progress: number;
  error: string | null;
}

let nextId = 1;

export function useUploads(onUploaded: (file: FileOut, folderId: number | null) => void) {
  const i18n = useI18n();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const handles = useRef(new Map<number, UploadHandle>());
  const patch = (id: number, change: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...change } : u)));

  const start = useCallback(
    (files: Iterable<File>, folderId: number | null) => {
      for (const file of files) {
        const id = nextId++;
        setUploads((list) => [...list, { id, name: file.name, progress: 0, error: null }]);
        const handle = uploadFile(file, folderId, (fraction) => patch(id, { progress: fraction * 100 }));
        handles.current.set(id, handle);
        handle.promise
          .then((saved) => {
            telegram.notify("success");
            setUploads((list) => list.filter((u) => u.id !== id));
            onUploaded(saved, folderId);
          })
          .catch((error: unknown) => {
            telegram.notify("error");
            patch(id, { error: errorMessage(i18n, error) });
          })
          .finally(() => handles.current.delete(id));
      }
    },
    [i18n, onUploaded],
  );

  const dismiss = useCallback((id: number) => {
    handles.current.get(id)?.abort();
    setUploads((list) => list.filter((u) => u.id !== id));
  }, []);

  return { uploads, start, dismiss };
}

export function UploadList(props: { uploads: Upload[]; onDismiss: (id: number) => void }) {
  const { t } = useI18n();
  if (!props.uploads.length) return null;
  return (
    <ul className="uploads" aria-label={t("drive.uploads")} data-testid="uploads">
      {props.uploads.map((upload) => (
        <li key={upload.id} className={upload.error ? "upload failed" : "upload"}>
          <div className="row between">
            <span className="ellipsis">{upload.name}</span>
            <button type="button" className="icon-button" onClick={() => props.onDismiss(upload.id)} aria-label={t("common.cancel")}>
              <Icon name="close" />
            </button>
          </div>
          {upload.error ? (
            <span className="error-text">{upload.error}</span>
          ) : (
            <ProgressBar value={upload.progress} label={t("drive.uploading", { name: upload.name })} testId="upload-progress" />
          )}
        </li>
      ))}
    </ul>
  );
}
