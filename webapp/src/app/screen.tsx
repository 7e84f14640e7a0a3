/**
 * Lazy screens that can be loaded before they render. `React.lazy` always suspends on its
 * first render, and React 19 holds a revealed Suspense boundary back for up to 300 ms to
 * avoid flicker; boot instead loads the first screen's chunk beside the dictionary, so the
 * first paint is the real screen. Later navigations are transitions: the old screen stays
 * until the new chunk is in.
 */

import { use, type ComponentType } from "react";

export interface Screen {
  (): React.JSX.Element;
  preload: () => Promise<void>;
}

export function screen(load: () => Promise<{ default: ComponentType }>): Screen {
  let loaded: ComponentType | null = null;
  let pending: Promise<void> | null = null;
  const preload = () =>
    (pending ??= load().then(
      (module) => {
        loaded = module.default;
      },
      (error: unknown) => {
        pending = null; // a failed chunk (offline) may be retried
        throw error;
      },
    ));
  const Lazy = (() => {
    if (!loaded) use(preload());
    const Component = loaded as unknown as ComponentType;
    return <Component />;
  }) as Screen;
  Lazy.preload = preload;
  return Lazy;
}
