/** Drag and drop inside the drive: dragged files and folders travel as our own MIME types, so
 * a drop target knows at once whether it is a move (ours) or an upload (files from the OS). */

import type { DragEvent } from "react";

export const FILES_TYPE = "application/x-atelier-files";
export const FOLDER_TYPE = "application/x-atelier-folder";

export interface Dragged {
  files: number[];
  folder: number | null;
}

export function startDrag(event: DragEvent, dragged: Dragged): void {
  event.dataTransfer.effectAllowed = "move";
  if (dragged.files.length) event.dataTransfer.setData(FILES_TYPE, JSON.stringify(dragged.files));
  if (dragged.folder !== null) event.dataTransfer.setData(FOLDER_TYPE, String(dragged.folder));
  event.dataTransfer.setData("text/plain", "");
}

export function isOurs(event: DragEvent): boolean {
  const types = Array.from(event.dataTransfer.types);
  return types.includes(FILES_TYPE) || types.includes(FOLDER_TYPE);
}

export function isUpload(event: DragEvent): boolean {
  return Array.from(event.dataTransfer.types).includes("Files");
}

export function readDrag(event: DragEvent): Dragged {
  let files: number[] = [];
  try {
    files = JSON.parse(event.dataTransfer.getData(FILES_TYPE) || "[]") as number[];
  } catch {
    files = [];
  }
  const folder = Number(event.dataTransfer.getData(FOLDER_TYPE));
  return { files, folder: Number.isSafeInteger(folder) && folder > 0 ? folder : null };
}
