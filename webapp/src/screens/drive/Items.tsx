/** Folder and file tiles (grid) and rows (list): click to open, ⋯ or right click for the menu,
 * checkbox or long press to select, draggable, and folders accept drops. */

import { useRef, useState, type DragEvent, type MouseEvent, type PointerEvent, type ReactNode } from "react";
import type { ListedFile, FolderOut } from "../../api/types";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Thumb } from "../../ui/media";
import { isOurs, isUpload } from "./dnd";

const LONG_PRESS_MS = 500;

export interface DropHandlers {
  onDrop: (event: DragEvent) => void;
}

/** Highlight while something of ours (or files from the OS) hovers; call `onDrop` with it. */
export function useDropTarget(onDrop: (event: DragEvent) => void) {
  const [over, setOver] = useState(false);
  return {
    over,
    props: {
      onDragOver: (event: DragEvent) => {
        if (!isOurs(event) && !isUpload(event)) return;
        event.preventDefault();
        event.stopPropagation();
        event.dataTransfer.dropEffect = isOurs(event) ? "move" : "copy";
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (event: DragEvent) => {
        if (!isOurs(event) && !isUpload(event)) return;
        event.preventDefault();
        event.stopPropagation();
        setOver(false);
        onDrop(event);
      },
    },
  };
}

function useLongPress(onLongPress: () => void) {
  const timer = useRef<number | undefined>(undefined);
  const fired = useRef(false);
  return {
    fired,
    handlers: {
      onPointerDown: (event: PointerEvent) => {
        if (event.pointerType !== "touch") return;
        fired.current = false;
        timer.current = window.setTimeout(() => {
          fired.current = true;
          onLongPress();
        }, LONG_PRESS_MS);
      },
      onPointerUp: () => window.clearTimeout(timer.current),
      onPointerMove: () => window.clearTimeout(timer.current),
      onPointerCancel: () => window.clearTimeout(timer.current),
    },
  };
}

interface ItemShell {
  view: "grid" | "list";
  name: string;
  testId: string;
  selected?: boolean;
  dropOver?: boolean;
  thumb: ReactNode;
  meta: string;
  onOpen: (event: MouseEvent) => void;
  onMenu: (x: number, y: number) => void;
  onToggle?: () => void;
  onLongPress: () => void;
  dragProps: Record<string, unknown>;
}

function Item(props: ItemShell) {
  const { t } = useI18n();
  const press = useLongPress(props.onLongPress);
  const classes = ["item", `item-${props.view}`];
  if (props.selected) classes.push("selected");
  if (props.dropOver) classes.push("drop-over");
  return (
    <li
      className={classes.join(" ")}
      data-testid={props.testId}
      data-name={props.name}
      aria-selected={props.selected}
      onContextMenu={(event) => {
        event.preventDefault();
        props.onMenu(event.clientX, event.clientY);
      }}
      {...press.handlers}
      {...props.dragProps}
    >
      <button
        type="button"
        className="item-open"
        onClick={(event) => {
          if (press.fired.current) return;
          props.onOpen(event);
        }}
        title={props.name}
      >
        {props.thumb}
        <span className="item-text">
          <span className="item-name">{props.name}</span>
          <span className="item-meta muted">{props.meta}</span>
        </span>
      </button>
      {props.onToggle && (
        <input
          type="checkbox"
          className="item-check"
          checked={Boolean(props.selected)}
          onChange={props.onToggle}
          aria-label={t("drive.select", { name: props.name })}
        />
      )}
      <button
        type="button"
        className="icon-button item-more"
        aria-label={t("drive.actions", { name: props.name })}
        onClick={(event) => {
          const box = event.currentTarget.getBoundingClientRect();
          props.onMenu(box.left, box.bottom);
        }}
      >
        <Icon name="more" />
      </button>
    </li>
  );
}

export function FolderItem(props: {
  folder: FolderOut;
  view: "grid" | "list";
  onOpen: () => void;
  onMenu: (x: number, y: number) => void;
  onDrop: (event: DragEvent) => void;
  onDragStart: (event: DragEvent) => void;
}) {
  const { t } = useI18n();
  const drop = useDropTarget(props.onDrop);
  return (
    <Item
      view={props.view}
      name={props.folder.name}
      testId="folder"
      dropOver={drop.over}
      thumb={
        <span className="thumb thumb-icon thumb-folder" style={props.folder.color ? { color: props.folder.color } : undefined}>
          <Icon name="folder" />
        </span>
      }
      meta={t("drive.folder")}
      onOpen={props.onOpen}
      onMenu={props.onMenu}
      onLongPress={() => undefined}
      dragProps={{ draggable: true, onDragStart: props.onDragStart, ...drop.props }}
    />
  );
}

export function FileItem(props: {
  file: ListedFile;
  view: "grid" | "list";
  selected: boolean;
  onOpen: (event: MouseEvent) => void;
  onToggle: () => void;
  onMenu: (x: number, y: number) => void;
  onDragStart: (event: DragEvent) => void;
}) {
  const i18n = useI18n();
  const file = props.file;
  const parts = [i18n.bytes(file.size)];
  if (file.width && file.height) parts.push(`${file.width}×${file.height}`);
  if (file.duration) parts.push(i18n.seconds(file.duration));
  return (
    <Item
      view={props.view}
      name={file.name}
      testId="file"
      selected={props.selected}
      thumb={<Thumb media={file} />}
      meta={props.view === "list" ? `${parts.join(" · ")} · ${i18n.date(file.created_at)}` : parts.join(" · ")}
      onOpen={props.onOpen}
      onToggle={props.onToggle}
      onMenu={props.onMenu}
      onLongPress={props.onToggle}
      dragProps={{ draggable: true, onDragStart: props.onDragStart }}
    />
  );
}
