/**
 * Telegram's BackButton and MainButton as hooks. Inside Telegram the host draws them; in a
 * browser the shell draws in-page stand-ins from the same state, so a screen declares its
 * buttons once and works in both places. Each hook pushes onto a stack and the newest wins,
 * so an open preview can take "back" from the screen under it and give it back on close.
 */

import { useEffect, useRef, useSyncExternalStore } from "react";
import { telegram } from "../telegram/webapp";

export interface MainButtonSpec {
  text: string;
  onClick: () => void;
  disabled?: boolean;
  progress?: boolean;
}

interface ButtonsState {
  back: (() => void) | null;
  main: MainButtonSpec | null;
}

const backStack: { id: number; run: () => void }[] = [];
const mainStack: { id: number; spec: MainButtonSpec }[] = [];
let nextId = 1;
let state: ButtonsState = { back: null, main: null };
const listeners = new Set<() => void>();

function publish(): void {
  const back = backStack.at(-1)?.run ?? null;
  const main = mainStack.at(-1)?.spec ?? null;
  state = { back, main };
  listeners.forEach((cb) => cb());
  telegram.setBackButton(back !== null);
  telegram.setMainButton({
    text: main?.text ?? "",
    visible: main !== null,
    active: main !== null && !main.disabled,
    progress: Boolean(main?.progress),
  });
}

telegram.onBack(() => state.back?.());
telegram.onMain(() => {
  if (state.main && !state.main.disabled && !state.main.progress) state.main.onClick();
});

const subscribe = (cb: () => void) => {
  listeners.add(cb);
  return () => {
    listeners.delete(cb);
  };
};

export const useButtons = (): ButtonsState => useSyncExternalStore(subscribe, () => state);

function remove<T extends { id: number }>(stack: T[], id: number): void {
  const index = stack.findIndex((item) => item.id === id);
  if (index >= 0) stack.splice(index, 1);
}

/** Show the back button while mounted (calling `onBack`); null shows none. */
export function useBackButton(onBack: (() => void) | null): void {
  const ref = useRef(onBack);
  ref.current = onBack;
  const visible = onBack !== null;
  useEffect(() => {
    if (!visible) return;
    const id = nextId++;
    backStack.push({ id, run: () => ref.current?.() });
    publish();
    return () => {
      remove(backStack, id);
      publish();
    };
  }, [visible]);
}

export function useMainButton(spec: MainButtonSpec | null): void {
  const ref = useRef(spec);
  ref.current = spec;
  const text = spec?.text;
  const disabled = spec?.disabled;
  const progress = spec?.progress;
  useEffect(() => {
    if (text === undefined) return;
    const id = nextId++;
    mainStack.push({ id, spec: { text, disabled, progress, onClick: () => ref.current?.onClick() } });
    publish();
    return () => {
      remove(mainStack, id);
      publish();
    };
  }, [text, disabled, progress]);
}
