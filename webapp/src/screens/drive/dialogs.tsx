/** The drive's dialogs: pick a folder (move), edit tags, make a share link. */

import { useMemo, useState } from "react";
import * as drive from "../../api/drive";
import type { ListedFile, FolderOut } from "../../api/types";
import { useI18n } from "../../i18n";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { Modal } from "../../ui/Modal";
import { ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";

interface Node {
  folder: FolderOut;
  depth: number;
}

function flatten(folders: FolderOut[], exclude: number | null): Node[] {
  const children = new Map<number | null, FolderOut[]>();
  for (const folder of folders) {
    const list = children.get(folder.parent_id) ?? [];
    list.push(folder);
    children.set(folder.parent_id, list);
  }
  const out: Node[] = [];
  const walk = (parent: number | null, depth: number) => {
    const list = (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    for (const folder of list) {
      if (folder.id === exclude) continue; // a folder cannot move into itself or below
      out.push({ folder, depth });
      walk(folder.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function MoveDialog(props: {
  title: string;
  excludeFolder?: number | null;
  current: number | null;
  onPick: (folderId: number | null) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const tree = useResource(() => drive.folderTree(), []);
  const nodes = useMemo(() => flatten(tree.data ?? [], props.excludeFolder ?? null), [tree.data, props.excludeFolder]);
  return (
    <Modal title={props.title} onClose={props.onClose} testId="move-dialog">
      {tree.loading ? (
        <Loading />
      ) : tree.error ? (
        <ErrorView error={tree.error} onRetry={tree.reload} />
      ) : (
        <ul className="folder-picker">
          <li>
            <button type="button" disabled={props.current === null} onClick={() => props.onPick(null)}>
              <Icon name="drive" /> {t("drive.root")}
            </button>
          </li>
          {nodes.map(({ folder, depth }) => (
            <li key={folder.id} style={{ paddingInlineStart: `${(depth + 1) * 1.25}rem` }}>
              <button type="button" disabled={props.current === folder.id} onClick={() => props.onPick(folder.id)}>
                <Icon name="folder" /> {folder.name}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

export function TagsDialog(props: { file: ListedFile; onSaved: (tags: string[]) => void; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={t("drive.tags_title", { name: props.file.name })} onClose={props.onClose} testId="tags-dialog">
      <form
        className="stack"
        onSubmit={async (event) => {
          event.preventDefault();
          const raw = String(new FormData(event.currentTarget).get("tags") ?? "");
          const tags = [...new Set(raw.split(",").map((s) => s.trim()).filter(Boolean))];
          setBusy(true);
          try {
            const saved = await drive.setTags(props.file.id, tags);
            props.onSaved(saved.tags);
          } catch (error) {
            toast(errorMessage(i18n, error), "error");
          } finally {
            setBusy(false);
          }
        }}
      >
        <label className="field">
          <span>{t("drive.tags_hint")}</span>
          <input name="tags" defaultValue={props.file.tags.join(", ")} autoFocus />
        </label>
        <div className="row end">
          <button type="submit" className="button primary" disabled={busy}>
            {t("common.save")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const WEEK_S = 7 * 24 * 3600;

export function ShareDialog(props: { file: ListedFile; onClose: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const link = useResource(() => drive.share(props.file.id, WEEK_S), [props.file.id]);
  return (
    <Modal title={t("drive.share_title")} onClose={props.onClose} testId="share-dialog">
      {link.loading ? (
        <Loading />
      ) : link.error || !link.data?.url ? (
        <ErrorView error={link.error} onRetry={link.reload} />
      ) : (
        <div className="stack">
          <input readOnly value={link.data.url} onFocus={(e) => e.currentTarget.select()} data-testid="share-url" />
          <span className="muted">{t("drive.share_expires", { date: i18n.date(link.data.expires_at) })}</span>
          <div className="row end">
            <button
              type="button"
              className="button primary"
              onClick={async () => {
                try {
                  await navigator.clipboard.writeText(link.data?.url ?? "");
                  toast(t("drive.copied"), "success");
                } catch {
                  toast(t("drive.copy_failed"), "error");
                }
              }}
            >
              {t("drive.copy")}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
