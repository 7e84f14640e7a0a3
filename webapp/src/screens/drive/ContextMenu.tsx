/** A context menu at the pointer (right click, long press or the ⋯ button), kept on screen. */

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { Icon, type IconName } from "../../ui/icons";

export interface MenuItem {
  label: string;
  icon: IconName;
  run: () => void;
  danger?: boolean;
}

export function ContextMenu(props: { x: number; y: number; items: MenuItem[]; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [position, setPosition] = useState({ left: props.x, top: props.y });
  useLayoutEffect(() => {
    const box = ref.current?.getBoundingClientRect();
    if (!box) return;
    setPosition({
      left: Math.max(8, Math.min(props.x, window.innerWidth - box.width - 8)),
      top: Math.max(8, Math.min(props.y, window.innerHeight - box.height - 8)),
    });
    ref.current?.querySelector("button")?.focus();
  }, [props.x, props.y]);
  useEffect(() => {
    const close = (event: Event) => {
      if (!ref.current?.contains(event.target as Node)) props.onClose();
    };
    const key = (event: KeyboardEvent) => event.key === "Escape" && props.onClose();
    window.addEventListener("pointerdown", close, true);
    window.addEventListener("keydown", key);
    window.addEventListener("scroll", props.onClose, true);
    return () => {
      window.removeEventListener("pointerdown", close, true);
      window.removeEventListener("keydown", key);
      window.removeEventListener("scroll", props.onClose, true);
    };
  }, [props]);
  return (
    <div ref={ref} className="context-menu" role="menu" style={{ left: position.left, top: position.top }} data-testid="context-menu">
      {props.items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          className={item.danger ? "danger" : undefined}
          onClick={() => {
            props.onClose();
            item.run();
          }}
        >
          <Icon name={item.icon} />
          {item.label}
        </button>
      ))}
    </div>
  );
}
