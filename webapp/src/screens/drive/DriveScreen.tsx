/**
 * The drive, Finder-like: breadcrumbs, grid or list, multi-select, drag-and-drop moves onto
 * folders and breadcrumbs, a context menu (rename, move, tags, share, trash), uploads with
 * progress, previews, search by name/type/tag, and the storage bar.
 */

import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent } from "react";
import * as drive from "../../api/drive";
import type { ListedFile, FolderOut, Order, Sort } from "../../api/types";
import { markInteractive } from "../../app/perf";
import { Link, navigate, useParams } from "../../app/router";
import { useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { errorMessage } from "../../ui/errors";
import { Icon } from "../../ui/icons";
import { PromptModal } from "../../ui/Modal";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { toast } from "../../ui/toast";
import { useResource } from "../../ui/useResource";
import { ContextMenu, type MenuItem } from "./ContextMenu";
import { MoveDialog, ShareDialog, TagsDialog } from "./dialogs";
import { isOurs, readDrag, startDrag } from "./dnd";
import { FileItem, FolderItem, useDropTarget } from "./Items";
import { Preview } from "./Preview";
import { UploadList, useUploads } from "./Uploads";
import { isSearch, useListing, type Query } from "./useListing";
import "./drive.css";

type View = "grid" | "list";
type Target = { kind: "file"; file: ListedFile } | { kind: "folder"; folder: FolderOut };
type Dialog =
  | { kind: "new-folder" }
  | { kind: "rename"; target: Target }
  | { kind: "move"; target: Target | null }
  | { kind: "tags"; file: ListedFile }
  | { kind: "share"; file: ListedFile };

const VIEW_KEY = "atelier.drive.view";

function storedView(): View {
  try {
    return localStorage.getItem(VIEW_KEY) === "list" ? "list" : "grid";
  } catch {
    return "grid";
  }
}

function Crumb(props: { label: string; to: string; current: boolean; onDrop: (event: DragEvent) => void }) {
  const drop = useDropTarget(props.onDrop);
  return (
    <li className={drop.over ? "crumb drop-over" : "crumb"} {...drop.props} data-testid="crumb">
      {props.current ? <span aria-current="page">{props.label}</span> : <Link to={props.to}>{props.label}</Link>}
    </li>
  );
}

function UsageBar({ version }: { version: number }) {
  const i18n = useI18n();
  const usage = useResource(() => drive.usage(), [version]);
  const data = usage.data;
  if (!data) return null;
  const quota = data.quota_bytes;
  const share = quota ? Math.min(100, (data.tenant_bytes / quota) * 100) : 0;
  return (
    <div className="usage" data-testid="usage">
      {quota ? (
        <div className="progress thin" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(share)}>
          <div className="progress-fill" style={{ inlineSize: `${share}%` }} />
        </div>
      ) : null}
      <span className="muted">
        {quota
          ? i18n.t("drive.usage_quota", { used: i18n.bytes(data.user_bytes), free: i18n.bytes(Math.max(0, quota - data.tenant_bytes)) })
          : i18n.t("drive.usage", { used: i18n.bytes(data.user_bytes) })}
      </span>
    </div>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setCurrent(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return current;
}

export default function DriveScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const params = useParams();
  const folderId = params.folder ? Number(params.folder) : null;
  const [view, setView] = useState<View>(storedView);
  const [sort, setSort] = useState<Sort>("name");
  const [order, setOrder] = useState<Order>("asc");
  const [text, setText] = useState("");
  const [type, setType] = useState("");
  const [tag, setTag] = useState("");
  const q = useDebounced(text.trim(), 300);
  const query: Query = useMemo(() => ({ q, type, tag }), [q, type, tag]);
  const searching = isSearch(query);
  const data = useListing(folderId, sort, order, query);
  const tags = useResource(() => drive.tags(), []);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [menu, setMenu] = useState<{ x: number; y: number; target: Target } | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [preview, setPreview] = useState<ListedFile | null>(null);
  const [usageVersion, setUsageVersion] = useState(0);
  const usageChanged = useCallback(() => setUsageVersion((n) => n + 1), []);
  const fileInput = useRef<HTMLInputElement>(null);
  const { listing } = data;

  useEffect(() => setSelected(new Set()), [folderId, query]);
  useEffect(() => {
    if (!data.loading && !data.error) markInteractive();
  }, [data.loading, data.error]);

  const onUploaded = useCallback(
    (file: ListedFile, target: number | null) => {
      if (target === folderId && !searching) data.addFile(file);
      usageChanged();
      toast(t("drive.uploaded", { name: file.name }), "success");
    },
    [folderId, searching, data, t, usageChanged],
  );
  const uploads = useUploads(onUploaded);

  const fail = (error: unknown) => {
    telegram.notify("error");
    toast(errorMessage(i18n, error), "error");
  };

  const moveFiles = async (ids: number[], target: number | null) => {
    if (!ids.length || (!searching && target === folderId)) return;
    try {
      await drive.moveFiles(ids, target);
      telegram.impact("medium");
      if (!searching) data.removeFiles(ids);
      setSelected(new Set());
      toast(t("drive.moved", { count: ids.length }), "success");
    } catch (error) {
      fail(error);
    }
  };

  const moveFolder = async (id: number, target: number | null) => {
    if (id === target) return;
    try {
      await drive.moveFolder(id, target);
      telegram.impact("medium");
      data.removeFolder(id);
    } catch (error) {
      fail(error);
    }
  };

  /** A drop onto a folder or breadcrumb: our files/folders move there; OS files upload there. */
  const dropOnto = (target: number | null) => (event: DragEvent) => {
    if (!isOurs(event)) {
      uploads.start(Array.from(event.dataTransfer.files), target);
      return;
    }
    const dragged = readDrag(event);
    if (dragged.files.length) void moveFiles(dragged.files, target);
    if (dragged.folder !== null) void moveFolder(dragged.folder, target);
  };

  const toggle = (id: number) => {
    telegram.select();
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  const openFile = (file: ListedFile) => (event: MouseEvent) => {
    if (selected.size || event.metaKey || event.ctrlKey) toggle(file.id);
    else setPreview(file);
  };

  const trashFile = async (file: ListedFile) => {
    try {
      await drive.trashFile(file.id);
      data.removeFiles([file.id]);
      toast(t("drive.trashed", { name: file.name }), "info", {
        label: t("drive.undo"),
        run: () => void drive.restoreFile(file.id).then(() => data.reload(), fail),
      });
    } catch (error) {
      fail(error);
    }
  };

  const trashFolder = async (folder: FolderOut) => {
    try {
      await drive.trashFolder(folder.id);
      data.removeFolder(folder.id);
      toast(t("drive.trashed", { name: folder.name }), "info", {
        label: t("drive.undo"),
        run: () => void drive.restoreFolder(folder.id).then(() => data.reload(), fail),
      });
    } catch (error) {
      fail(error);
    }
  };

  const trashSelected = async () => {
    const ids = [...selected];
    const results = await Promise.allSettled(ids.map((id) => drive.trashFile(id)));
    const done = ids.filter((_, i) => results[i]?.status === "fulfilled");
    data.removeFiles(done);
    setSelected(new Set());
    if (done.length < ids.length) fail(results.find((r) => r.status === "rejected"));
    else toast(t("drive.trashed_many", { count: done.length }));
  };

  const menuItems = (target: Target): MenuItem[] => {
    const common: MenuItem[] = [
      { label: t("drive.rename"), icon: "text", run: () => setDialog({ kind: "rename", target }) },
      { label: t("drive.move"), icon: "folder", run: () => setDialog({ kind: "move", target }) },
    ];
    if (target.kind === "folder") {
      return [
        { label: t("drive.open"), icon: "forward", run: () => navigate(`/drive/${target.folder.id}`) },
        ...common,
        { label: t("drive.trash"), icon: "trash", danger: true, run: () => void trashFolder(target.folder) },
      ];
    }
    const file = target.file;
    return [
      { label: t("drive.preview"), icon: "image", run: () => setPreview(file) },
      ...common,
      { label: t("drive.tag"), icon: "list", run: () => setDialog({ kind: "tags", file }) },
      { label: t("drive.share"), icon: "upload", run: () => setDialog({ kind: "share", file }) },
      { label: t("drive.trash"), icon: "trash", danger: true, run: () => void trashFile(file) },
    ];
  };

  const rename = async (target: Target, name: string) => {
    try {
      if (target.kind === "file") data.updateFile(await drive.renameFile(target.file.id, name));
      else data.upsertFolder(await drive.renameFolder(target.folder.id, name));
      setDialog(null);
    } catch (error) {
      fail(error);
    }
  };

  const createFolder = async (name: string) => {
    try {
      data.upsertFolder(await drive.createFolder(name, folderId));
      telegram.notify("success");
      setDialog(null);
    } catch (error) {
      fail(error);
    }
  };

  const screenDrop = useDropTarget((event) => {
    if (!isOurs(event)) uploads.start(Array.from(event.dataTransfer.files), folderId);
  });

  const crumbs = listing.breadcrumbs;
  const empty = !data.loading && !data.error && !listing.folders.length && !listing.files.length;

  return (
    <section className={screenDrop.over ? "drive drop-over" : "drive"} {...screenDrop.props}>
      <div className="toolbar">
        <label className="search">
          <Icon name="search" />
          <input
            type="search"
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder={t("drive.search")}
            aria-label={t("drive.search")}
            data-testid="drive-search"
          />
        </label>
        <select value={type} onChange={(e) => setType(e.target.value)} aria-label={t("drive.type")}>
          <option value="">{t("drive.all_types")}</option>
          <option value="image">{t("kind.image")}</option>
          <option value="video">{t("kind.video")}</option>
          <option value="audio">{t("kind.audio")}</option>
          <option value="text">{t("kind.text")}</option>
        </select>
        {tags.data && tags.data.length > 0 && (
          <select value={tag} onChange={(e) => setTag(e.target.value)} aria-label={t("drive.tag")}>
            <option value="">{t("drive.all_tags")}</option>
            {tags.data.map((item) => (
              <option key={item.tag} value={item.tag}>
                #{item.tag} ({item.files})
              </option>
            ))}
          </select>
        )}
      </div>
      <div className="toolbar">
        <button type="button" className="button primary" onClick={() => fileInput.current?.click()} data-testid="upload">
          <Icon name="upload" /> {t("drive.upload")}
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="upload-input"
          onChange={(event) => {
            if (event.target.files) uploads.start(Array.from(event.target.files), folderId);
            event.target.value = "";
          }}
        />
        <button type="button" className="button" onClick={() => setDialog({ kind: "new-folder" })} data-testid="new-folder">
          <Icon name="plus" /> {t("drive.new_folder")}
        </button>
        <span className="spacer" />
        {!searching && (
          <select
            value={`${sort}:${order}`}
            onChange={(event) => {
              const [s, o] = event.target.value.split(":") as [Sort, Order];
              setSort(s);
              setOrder(o);
            }}
            aria-label={t("drive.sort")}
          >
            <option value="name:asc">{t("drive.sort_name")}</option>
            <option value="date:desc">{t("drive.sort_newest")}</option>
            <option value="size:desc">{t("drive.sort_largest")}</option>
            <option value="type:asc">{t("drive.sort_type")}</option>
          </select>
        )}
        <button
          type="button"
          className="icon-button"
          aria-label={view === "grid" ? t("drive.list_view") : t("drive.grid_view")}
          data-testid="view-toggle"
          onClick={() => {
            const next = view === "grid" ? "list" : "grid";
            setView(next);
            try {
              localStorage.setItem(VIEW_KEY, next);
            } catch {
              // this page only
            }
          }}
        >
          <Icon name={view === "grid" ? "list" : "grid"} />
        </button>
        <Link to="/trash" className="icon-button" data-testid="open-trash">
          <Icon name="trash" />
          <span className="sr-only">{t("drive.trash_view")}</span>
        </Link>
      </div>

      {!searching && (
        <nav aria-label={t("drive.path")}>
          <ol className="breadcrumbs">
            <Crumb label={t("drive.root")} to="/" current={folderId === null} onDrop={dropOnto(null)} />
            {crumbs.map((crumb, index) => (
              <Crumb
                key={crumb.id}
                label={crumb.name}
                to={`/drive/${crumb.id}`}
                current={index === crumbs.length - 1}
                onDrop={dropOnto(crumb.id)}
              />
            ))}
          </ol>
        </nav>
      )}

      <UploadList uploads={uploads.uploads} onDismiss={uploads.dismiss} />

      {selected.size > 0 && (
        <div className="selection-bar" data-testid="selection-bar">
          <span>{t("drive.selected", { count: selected.size })}</span>
          <span className="spacer" />
          <button type="button" className="button" onClick={() => setDialog({ kind: "move", target: null })}>
            {t("drive.move")}
          </button>
          <button type="button" className="button danger" onClick={() => void trashSelected()}>
            {t("drive.trash")}
          </button>
          <button type="button" className="button ghost" onClick={() => setSelected(new Set())}>
            {t("common.cancel")}
          </button>
        </div>
      )}

      {data.loading ? (
        <Loading />
      ) : data.error ? (
        <ErrorView error={data.error} onRetry={data.reload} />
      ) : empty ? (
        <Empty
          icon={searching ? "search" : "drive"}
          title={searching ? t("drive.no_results") : t("drive.empty")}
          hint={searching ? undefined : t("drive.empty_hint")}
        />
      ) : (
        <ul className={`items items-${view}`} data-testid="items">
          {listing.folders.map((folder) => (
            <FolderItem
              key={`d${folder.id}`}
              folder={folder}
              view={view}
              onOpen={() => navigate(`/drive/${folder.id}`)}
              onMenu={(x, y) => setMenu({ x, y, target: { kind: "folder", folder } })}
              onDrop={dropOnto(folder.id)}
              onDragStart={(event) => startDrag(event, { files: [], folder: folder.id })}
            />
          ))}
          {listing.files.map((file) => (
            <FileItem
              key={`f${file.id}`}
              file={file}
              view={view}
              selected={selected.has(file.id)}
              onOpen={openFile(file)}
              onToggle={() => toggle(file.id)}
              onMenu={(x, y) => setMenu({ x, y, target: { kind: "file", file } })}
              onDragStart={(event) =>
                startDrag(event, { files: selected.has(file.id) ? [...selected] : [file.id], folder: null })
              }
            />
          ))}
        </ul>
      )}
      {listing.next && !data.loading && (
        <button type="button" className="button ghost wide" disabled={data.loadingMore} onClick={() => void data.loadMore()}>
          {data.loadingMore ? t("common.loading") : t("common.more")}
        </button>
      )}

      <UsageBar version={usageVersion} />

      {menu && <ContextMenu x={menu.x} y={menu.y} items={menuItems(menu.target)} onClose={() => setMenu(null)} />}
      {preview && <Preview file={preview} onClose={() => setPreview(null)} />}
      {dialog?.kind === "new-folder" && (
        <PromptModal
          title={t("drive.new_folder")}
          label={t("drive.folder_name")}
          submit={t("drive.create")}
          onSubmit={createFolder}
          onClose={() => setDialog(null)}
          testId="new-folder-dialog"
        />
      )}
      {dialog?.kind === "rename" && (
        <PromptModal
          title={t("drive.rename")}
          label={t("drive.new_name")}
          initial={dialog.target.kind === "file" ? dialog.target.file.name : dialog.target.folder.name}
          submit={t("common.save")}
          onSubmit={(name) => rename(dialog.target, name)}
          onClose={() => setDialog(null)}
          testId="rename-dialog"
        />
      )}
      {dialog?.kind === "move" && (
        <MoveDialog
          title={t("drive.move_to")}
          current={folderId}
          excludeFolder={dialog.target?.kind === "folder" ? dialog.target.folder.id : null}
          onClose={() => setDialog(null)}
          onPick={(target) => {
            const moving = dialog.target;
            setDialog(null);
            if (moving?.kind === "folder") void moveFolder(moving.folder.id, target);
            else void moveFiles(moving ? [moving.file.id] : [...selected], target);
          }}
        />
      )}
      {dialog?.kind === "tags" && (
        <TagsDialog
          file={dialog.file}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            data.updateFile({ ...dialog.file, tags: saved });
            tags.reload();
            setDialog(null);
          }}
        />
      )}
      {dialog?.kind === "share" && <ShareDialog file={dialog.file} onClose={() => setDialog(null)} />}
    </section>
  );
}
