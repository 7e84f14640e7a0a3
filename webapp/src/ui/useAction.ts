/** Run a button's async action once at a time: `busy` while it runs, errors as a toast. */

import { useCallback, useRef, useState } from "react";
import { useI18n } from "../i18n";
import { errorMessage } from "./errors";
import { toast } from "./toast";

export function useAction(): {
  busy: string | null;
  run: <T>(name: string, action: () => Promise<T>, success?: string) => Promise<T | undefined>;
} {
  const i18n = useI18n();
  const [busy, setBusy] = useState<string | null>(null);
  const running = useRef(false);
  const run = useCallback(
    async <T,>(name: string, action: () => Promise<T>, success?: string): Promise<T | undefined> => {
      if (running.current) return undefined;
      running.current = true;
      setBusy(name);
      try {
        const value = await action();
        if (success) toast(success, "success");
        return value;
      } catch (error) {
        toast(errorMessage(i18n, error), "error");
        return undefined;
      } finally {
        running.current = false;
        setBusy(null);
      }
    },
    [i18n],
  );
  return { busy, run };
}
