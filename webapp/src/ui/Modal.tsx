/** A native `<dialog>`: focus trapping, Escape and the backdrop come from the browser. */

import { useEffect, useRef, type ReactNode } from "react";
import { useI18n } from "../i18n";
import { Icon } from "./icons";

export function Modal(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useI18n();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? "modal modal-wide" : "modal"}
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
      onClick={(event) => {
        if (event.target === ref.current) props.onClose();
      }}
      data-testid={props.testId}
      aria-label={props.title}
    >
      <header className="modal-head">
        <h2>{props.title}</h2>
        <button type="button" className="icon-button" onClick={props.onClose} aria-label={t("common.close")}>
          <Icon name="close" />
        </button>
      </header>
      <div className="modal-body">{props.children}</div>
    </dialog>
  );
}

/** A one-field form in a dialog (rename, new folder, tags). */
export function PromptModal(props: {
  title: string;
  label: string;
  initial?: string;
  submit: string;
  onSubmit: (value: string) => void | Promise<void>;
  onClose: () => void;
  testId?: string;
}) {
  const { t } = useI18n();
  return (
    <Modal title={props.title} onClose={props.onClose} testId={props.testId}>
      <form
        className="stack"
        onSubmit={async (event) => {
          event.preventDefault();
          const value = String(new FormData(event.currentTarget).get("value") ?? "").trim();
          await props.onSubmit(value);
        }}
      >
        <label className="field">
          <span>{props.label}</span>
          <input name="value" defaultValue={props.initial} autoFocus required maxLength={255} />
        </label>
        <div className="row end">
          <button type="button" className="button ghost" onClick={props.onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="button primary">
            {props.submit}
          </button>
        </div>
      </form>
    </Modal>
  );
}
