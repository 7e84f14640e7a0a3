/** One broadcast. New: compose (Telegram HTML, an optional drive file, URL buttons) and pick
 * the audience, with a live count. Saved: preview it in your own chat, send it, and follow
 * the progress live (SSE), with pause, resume and cancel. */

import { useEffect, useState, type FormEvent } from "react";
import * as broadcasts from "../../api/broadcasts";
import type { Audience, Broadcast, Button, Progress } from "../../api/broadcasts";
import * as content from "../../api/content";
import { navigate, useParams } from "../../app/router";
import { LANGUAGES, LANGUAGE_NAMES, useI18n } from "../../i18n";
import { telegram } from "../../telegram/webapp";
import { Icon } from "../../ui/icons";
import { ErrorView, Loading, ProgressBar } from "../../ui/states";
import { useAction } from "../../ui/useAction";
import { useResource } from "../../ui/useResource";
import { NumberField } from "./common";
import { DrivePicker } from "./DrivePicker";
import type { ListedFile } from "../../api/types";
import { Thumb } from "../../ui/media";
import "./creator.css";

function AudienceFields({ audience, onChange }: { audience: Audience; onChange: (a: Audience) => void }) {
  const { t, number } = useI18n();
  const packages = useResource(() => (audience.kind === "vip" ? content.packages() : Promise.resolve({ items: [] })), [audience.kind]);
  const [count, setCount] = useState<number | null>(null);
  const key = JSON.stringify(audience);
  useEffect(() => {
    setCount(null);
    const timer = window.setTimeout(() => {
      broadcasts.count(audience).then((r) => setCount(r.count), () => setCount(null));
    }, 300);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return (
    <fieldset className="field">
      <legend>{t("broadcast.audience")}</legend>
      <select value={audience.kind} onChange={(e) => onChange({ kind: e.target.value as Audience["kind"], days: e.target.value === "inactive" ? 7 : null, language: e.target.value === "language" ? "en" : null })} data-testid="audience-kind">
        {(["all", "vip", "inactive", "language"] as const).map((kind) => (
          <option key={kind} value={kind}>
            {t(`broadcast.audience_${kind}`)}
          </option>
        ))}
      </select>
      {audience.kind === "inactive" && <NumberField label={t("broadcast.inactive_days")} value={audience.days ?? null} min={1} max={3650} onChange={(days) => onChange({ ...audience, days })} />}
      {audience.kind === "language" && (
        <select value={audience.language ?? "en"} onChange={(e) => onChange({ ...audience, language: e.target.value })}>
          {LANGUAGES.map((lang) => (
            <option key={lang} value={lang}>
              {LANGUAGE_NAMES[lang]}
            </option>
          ))}
        </select>
      )}
      {audience.kind === "vip" && (
        <select value={audience.package_id ?? ""} onChange={(e) => onChange({ ...audience, package_id: e.target.value ? Number(e.target.value) : null })}>
          <option value="">{t("broadcast.all_packages")}</option>
          {packages.data?.items.map((pkg) => (
            <option key={pkg.id} value={pkg.id}>
              {pkg.name}
            </option>
          ))}
        </select>
      )}
      <span className="muted" data-testid="audience-count">
        {count === null ? t("common.loading") : t("broadcast.reaches", { count: number(count) })}
      </span>
    </fieldset>
  );
}

function ButtonsField({ buttons, onChange }: { buttons: Button[]; onChange: (b: Button[]) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="field">
      <legend>{t("broadcast.buttons")}</legend>
      {buttons.map((button, index) => (
        <div key={index} className="row">
          <input className="spacer" placeholder={t("broadcast.button_text")} value={button.text} maxLength={64} required onChange={(e) => onChange(buttons.map((b, i) => (i === index ? { ...b, text: e.target.value } : b)))} />
          <input className="spacer" placeholder="https://" type="url" value={button.url} required onChange={(e) => onChange(buttons.map((b, i) => (i === index ? { ...b, url: e.target.value } : b)))} />
          <button type="button" className="icon-button" aria-label={t("broadcast.remove_button")} onClick={() => onChange(buttons.filter((_, i) => i !== index))}>
            <Icon name="close" />
          </button>
        </div>
      ))}
      {buttons.length < 8 && (
        <button type="button" className="button ghost" onClick={() => onChange([...buttons, { text: "", url: "" }])}>
          <Icon name="plus" /> {t("broadcast.add_button")}
        </button>
      )}
    </fieldset>
  );
}

function Compose() {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [media, setMedia] = useState<ListedFile[]>([]);
  const [picking, setPicking] = useState(false);
  const [buttons, setButtons] = useState<Button[]>([]);
  const [audience, setAudience] = useState<Audience>({ kind: "all" });
  const { busy, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run("create", () => broadcasts.create({ text, media_file_id: media[0]?.id ?? null, buttons: buttons.map((b) => [b]), audience })).then((created) => {
      if (created) navigate(`/creator/broadcasts/${created.id}`, { replace: true });
    });
  };
  return (
    <form className="stack" onSubmit={submit} data-testid="compose">
      <label className="field">
        <span>{t("broadcast.text")}</span>
        <textarea rows={6} required={media.length === 0} value={text} onChange={(e) => setText(e.target.value)} placeholder={t("broadcast.text_hint")} data-testid="broadcast-text" />
      </label>
      <div className="field">
        <span>{t("content.media")}</span>
        <div className="media-strip">
          {media.map((file) => (
            <span key={file.id} className="media-chip">
              <Thumb media={file} className="mini" />
              <button type="button" className="icon-button" aria-label={t("content.remove_media", { name: file.name })} onClick={() => setMedia([])}>
                <Icon name="close" />
              </button>
            </span>
          ))}
          {media.length === 0 && (
            <button type="button" className="button" onClick={() => setPicking(true)}>
              <Icon name="plus" /> {t("content.add_media")}
            </button>
          )}
        </div>
      </div>
      {picking && <DrivePicker chosen={media} max={1} onChange={setMedia} onClose={() => setPicking(false)} />}
      <ButtonsField buttons={buttons} onChange={setButtons} />
      <AudienceFields audience={audience} onChange={setAudience} />
      <div className="row end">
        <button type="submit" className="button primary" disabled={busy !== null} data-testid="save-broadcast">
          {t("broadcast.save")}
        </button>
      </div>
    </form>
  );
}

function LiveProgress({ broadcast, onStatus }: { broadcast: Broadcast; onStatus: (status: Broadcast["status"]) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [progress, setProgress] = useState<Progress | null>(null);
  const live = broadcast.status !== "draft" && !broadcasts.FINAL.includes(broadcast.status);
  useEffect(() => {
    if (broadcast.status === "draft") return;
    return broadcasts.follow(broadcast.id, (event) => {
      setProgress(event);
      if (event.status !== broadcast.status) onStatus(event.status);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [broadcast.id, broadcast.status]);
  const p = progress ?? { ...broadcast, rate: 0, eta_s: null, seq: 0 };
  const total = p.total || broadcast.audience_count || 0;
  const value = total > 0 ? (broadcasts.done(p) / total) * 100 : p.status === "completed" ? 100 : 0;
  return (
    <div className="card stack tight" data-testid="broadcast-progress" data-status={p.status}>
      <div className="row between">
        <span className={`badge badge-${p.status}`}>{t(`broadcast.status_${p.status}`)}</span>
        <span className="muted small">
          <bdi>
            {i18n.number(broadcasts.done(p))} / {i18n.number(total)}
          </bdi>
        </span>
      </div>
      <ProgressBar value={value} label={t("broadcast.progress")} testId="broadcast-bar" />
      <span className="muted small">
        {t("broadcast.counts", { sent: i18n.number(p.sent), failed: i18n.number(p.failed), blocked: i18n.number(p.blocked) })}
        {live && p.rate > 0 ? ` · ${t("broadcast.rate", { rate: i18n.number(Math.round(p.rate * 10) / 10) })}` : ""}
        {live && p.eta_s ? ` · ${t("broadcast.eta", { time: i18n.seconds(Math.round(p.eta_s)) })}` : ""}
      </span>
    </div>
  );
}

function Detail({ id }: { id: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const item = useResource(() => broadcasts.get(id), [id]);
  const { busy, run } = useAction();
  const act = (verb: "send" | "pause" | "resume" | "cancel") =>
    void run(verb, () => broadcasts.action(id, verb)).then((updated) => {
      if (!updated) return;
      telegram.impact("medium");
      item.setData(() => updated);
    });
  if (item.loading && !item.data) return <Loading />;
  if (item.error) return <ErrorView error={item.error} onRetry={item.reload} />;
  const b = item.data;
  if (!b) return null;
  return (
    <section className="stack" data-testid="broadcast">
      <div className="card stack tight">
        {b.media_kind && (
          <span className="badge">
            <Icon name="file" /> {b.media_kind}
          </span>
        )}
        <div className="message-preview" dangerouslySetInnerHTML={{ __html: b.text }} />
        {b.buttons.flat().map((button, index) => (
          <span key={index} className="button wide preview-button">
            {button.text}
          </span>
        ))}
        <span className="muted small">
          {t(`broadcast.audience_${b.audience.kind}`)}
          {b.audience_count !== null ? ` · ${t("broadcast.reaches", { count: i18n.number(b.audience_count) })}` : ""}
        </span>
      </div>
      <LiveProgress broadcast={b} onStatus={(status) => item.setData((current) => current && { ...current, status })} />
      <div className="row end">
        <button type="button" className="button" disabled={busy !== null} onClick={() => void run("preview", () => broadcasts.preview(id), t("broadcast.preview_sent"))} data-testid="preview-self">
          <Icon name="eye" /> {t("broadcast.preview")}
        </button>
        {b.status === "draft" && (
          <button type="button" className="button primary" disabled={busy !== null} onClick={() => window.confirm(t("broadcast.send_confirm")) && act("send")} data-testid="send">
            <Icon name="send" className="flip-rtl" /> {t("broadcast.send")}
          </button>
        )}
        {b.status === "running" && (
          <button type="button" className="button" disabled={busy !== null} onClick={() => act("pause")} data-testid="pause">
            {t("broadcast.pause")}
          </button>
        )}
        {(b.status === "paused" || b.status === "limited") && (
          <button type="button" className="button primary" disabled={busy !== null} onClick={() => act("resume")} data-testid="resume">
            {t("broadcast.resume")}
          </button>
        )}
        {!broadcasts.FINAL.includes(b.status) && b.status !== "draft" && (
          <button type="button" className="button ghost danger" disabled={busy !== null} onClick={() => window.confirm(t("broadcast.cancel_confirm")) && act("cancel")} data-testid="cancel">
            {t("broadcast.cancel")}
          </button>
        )}
      </div>
    </section>
  );
}

export default function BroadcastScreen() {
  const { id } = useParams();
  if (id === "new") return <Compose />;
  return <Detail id={Number(id)} />;
}
