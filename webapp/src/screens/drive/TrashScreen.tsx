/** The trash: restore or delete for good; everything here goes by itself after 30 days. */


import * as drive from "../../api/drive";
import type { ListedFile, FolderOut } from "../../api/types";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { Thumb } from "../../ui/media";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useMore } from "../../ui/useMore";
import { useResource } from "../../ui/useResource";
import "./drive.css";

type Entry = { kind: "file"; item: ListedFile } | { kind: "folder"; item: FolderOut };

export default function TrashScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const trash = useResource(() => drive.trash(), []);
  const entries: Entry[] = [
    ...(trash.data?.folders ?? []).map((item) => ({ kind: "folder" as const, item })),
    ...(trash.data?.files ?? []).map((item) => ({ kind: "file" as const, item })),
  ];

  const act = async (work: () => Promise<unknown>, done: string) => {
    try {
      await work();
      telegram.notify("success");
      toast(done, "success");
      trash.reload();
    } catch (error) {
      telegram.notify("error");
      toast(errorMessage(i18n, error), "error");
    }
  };

  const { more, loadMore } = useMore(
    trash,
    (cursor) => drive.trash(cursor),
    (current, next) => ({ ...current, files: [...current.files, ...next.files], next_cursor: next.next_cursor }),
  );

  const restore = (entry: Entry) =>
    act(
      () => (entry.kind === "file" ? drive.restoreFile(entry.item.id) : drive.restoreFolder(entry.item.id)),
      t("trash.restored", { name: entry.item.name }),
    );
  const purge = (entry: Entry) => {
    if (!window.confirm(t("trash.purge_confirm", { name: entry.item.name }))) return;
    void act(
      () => (entry.kind === "file" ? drive.purgeFile(entry.item.id) : drive.purgeFolder(entry.item.id)),
      t("trash.purged"),
    );
  };

  return (
    <section className="trash">
      <div className="toolbar">
        <h2 className="section-title">{t("trash.title")}</h2>
        <span className="spacer" />
        {entries.length > 0 && (
          <button
            type="button"
            className="button danger"
            onClick={() => {
              if (window.confirm(t("trash.empty_confirm"))) void act(() => drive.emptyTrash(), t("trash.purged"));
            }}
          >
            {t("trash.empty_all")}
          </button>
        )}
      </div>
      <p className="muted">{t("trash.hint")}</p>
      {trash.loading ? (
        <Loading />
      ) : trash.error ? (
        <ErrorView error={trash.error} onRetry={trash.reload} />
      ) : entries.length === 0 ? (
        <Empty icon="trash" title={t("trash.empty")} />
      ) : (
        <ul className="items items-list" data-testid="trash-items">
          {entries.map((entry) => (
            <li key={`${entry.kind}${entry.item.id}`} className="item item-list" data-testid="trash-item">
              <span className="item-open static">
                {entry.kind === "file" ? (
                  <Thumb media={entry.item} />
                ) : (
                  <span className="thumb thumb-icon thumb-folder">
                    <Icon name="folder" />
                  </span>
                )}
                <span className="item-text">
                  <span className="item-name">{entry.item.name}</span>
                  <span className="item-meta muted">
                    {entry.item.deleted_at ? t("trash.deleted_on", { date: i18n.date(entry.item.deleted_at) }) : ""}
                  </span>
                </span>
              </span>
              <button type="button" className="button" onClick={() => void restore(entry)}>
                <Icon name="restore" /> {t("trash.restore")}
              </button>
              <button type="button" className="icon-button danger" aria-label={t("trash.purge")} onClick={() => purge(entry)}>
                <Icon name="trash" />
              </button>
            </li>
          ))}
        </ul>
      )}
      {trash.data?.next_cursor && (
        <button type="button" className="button ghost wide" disabled={more} onClick={() => void loadMore()}>
          {more ? t("common.loading") : t("common.more")}
        </button>
      )}
    </section>
  );
}
