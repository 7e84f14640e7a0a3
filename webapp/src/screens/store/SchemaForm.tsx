/**
 * A form generated from a tool's JSON Schema: strings (a textarea for long ones), numbers and
 * integers with their bounds, enums as selects, booleans, and drive files where the schema
 * marks a property with `x-media` (the value sent is the file's id).
 */

import { useState } from "react";
import * as drive from "../../api/drive";
import type { JsonSchema, ListedFile } from "../../api/types";
import { useI18n } from "../../i18n";
import { Icon } from "../../ui/icons";
import { Thumb } from "../../ui/media";
import { Modal } from "../../ui/Modal";
import { Empty, ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";

export type Values = Record<string, unknown>;

const LONG_TEXT = 300;
const TEXT_FIELDS = new Set(["prompt", "text", "system"]);

export function typeOf(schema: JsonSchema): string {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  return type ?? "string";
}

export function initialValues(schema: JsonSchema, prefill: Values = {}): Values {
  const values: Values = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (name in prefill) values[name] = prefill[name];
    else if (prop.default !== undefined) values[name] = prop.default;
  }
  return values;
}

/** The values worth sending: empty strings and unset numbers are left out (defaults apply). */
export function cleanValues(values: Values): Values {
  const out: Values = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === "" || value === undefined || value === null) continue;
    if (typeof value === "number" && Number.isNaN(value)) continue;
    out[name] = value;
  }
  return out;
}

export const labelOf = (name: string, schema: JsonSchema): string =>
  schema.title ?? name.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());

function FilePicker(props: { media: string; value: number | undefined; onChange: (id: number) => void; label: string }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const chosen = useResource(
    () => (props.value ? drive.getFile(props.value) : Promise.resolve(null)),
    [props.value],
  );
  return (
    <>
      <button type="button" className="file-pick" onClick={() => setOpen(true)} data-testid="file-pick">
        {chosen.data ? (
          <>
            <Thumb media={chosen.data} />
            <span className="ellipsis">{chosen.data.name}</span>
          </>
        ) : (
          <>
            <Icon name="drive" />
            <span>{t("form.pick_file")}</span>
          </>
        )}
      </button>
      {open && (
        <DriveFileDialog
          title={props.label}
          media={props.media}
          onPick={(file) => {
            props.onChange(file.id);
            setOpen(false);
          }}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}

function DriveFileDialog(props: { title: string; media: string; onPick: (file: ListedFile) => void; onClose: () => void }) {
  const { t } = useI18n();
  const files = useResource((signal) => drive.search({ type: props.media }, null, signal), [props.media]);
  return (
    <Modal title={props.title} onClose={props.onClose} wide testId="file-dialog">
      {files.loading ? (
        <Loading />
      ) : files.error ? (
        <ErrorView error={files.error} onRetry={files.reload} />
      ) : !files.data?.files.length ? (
        <Empty icon="drive" title={t("form.no_files")} hint={t("form.no_files_hint")} />
      ) : (
        <ul className="items items-grid">
          {files.data.files.map((file) => (
            <li key={file.id} className="item item-grid">
              <button type="button" className="item-open" onClick={() => props.onPick(file)}>
                <Thumb media={file} />
                <span className="item-text">
                  <span className="item-name">{file.name}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

function Field(props: {
  name: string;
  schema: JsonSchema;
  required: boolean;
  value: unknown;
  error?: string;
  onChange: (value: unknown) => void;
}) {
  const { name, schema, value } = props;
  const label = labelOf(name, schema);
  const type = typeOf(schema);
  const id = `field-${name}`;
  let control;
  if (schema["x-media"]) {
    control = (
      <FilePicker
        media={schema["x-media"]}
        value={typeof value === "number" ? value : undefined}
        onChange={props.onChange}
        label={label}
      />
    );
  } else if (schema.enum) {
    const options = schema.enum;
    const index = options.findIndex((option) => option === value);
    control = (
      <select id={id} name={name} value={index} required={props.required} onChange={(e) => props.onChange(options[Number(e.target.value)])}>
        {index < 0 && <option value={-1}>—</option>}
        {options.map((option, i) => (
          <option key={String(option)} value={i}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === "boolean") {
    control = <input id={id} name={name} type="checkbox" checked={Boolean(value)} onChange={(e) => props.onChange(e.target.checked)} />;
  } else if (type === "integer" || type === "number") {
    control = (
      <input
        id={id}
        name={name}
        type="number"
        inputMode={type === "integer" ? "numeric" : "decimal"}
        min={schema.minimum}
        max={schema.maximum}
        step={type === "integer" ? 1 : "any"}
        required={props.required}
        value={typeof value === "number" ? value : ""}
        onChange={(e) => props.onChange(e.target.value === "" ? undefined : Number(e.target.value))}
      />
    );
  } else if ((schema.maxLength ?? 0) > LONG_TEXT || TEXT_FIELDS.has(name)) {
    control = (
      <textarea
        id={id}
        name={name}
        rows={3}
        minLength={schema.minLength}
        maxLength={schema.maxLength}
        required={props.required}
        value={typeof value === "string" ? value : ""}
        onChange={(e) => props.onChange(e.target.value)}
      />
    );
  } else {
    const list = schema.examples?.length ? `${id}-examples` : undefined;
    control = (
      <>
        <input
          id={id}
          name={name}
          type="text"
          list={list}
          minLength={schema.minLength}
          maxLength={schema.maxLength}
          pattern={schema.pattern?.replace(/^\^/, "").replace(/\$$/, "")}
          required={props.required}
          value={typeof value === "string" ? value : ""}
          onChange={(e) => props.onChange(e.target.value)}
        />
        {list && (
          <datalist id={list}>
            {schema.examples?.map((example) => <option key={String(example)} value={String(example)} />)}
          </datalist>
        )}
      </>
    );
  }
  const bounds =
    schema.minimum !== undefined && schema.maximum !== undefined ? `${schema.minimum}–${schema.maximum}` : null;
  return (
    <div className={type === "boolean" ? "field field-inline" : "field"} data-field={name}>
      <label htmlFor={id}>
        {label}
        {props.required && <span aria-hidden="true"> *</span>}
        {bounds && <span className="muted"> ({bounds})</span>}
      </label>
      {control}
      {schema.description && <span className="muted small">{schema.description}</span>}
      {props.error && (
        <span className="error-text" role="alert">
          {props.error}
        </span>
      )}
    </div>
  );
}

export function SchemaForm(props: {
  schema: JsonSchema;
  values: Values;
  errors: Record<string, string>;
  onChange: (values: Values) => void;
}) {
  const required = new Set(props.schema.required ?? []);
  return (
    <div className="schema-form" data-testid="tool-form">
      {Object.entries(props.schema.properties ?? {}).map(([name, schema]) => (
        <Field
          key={name}
          name={name}
          schema={schema}
          required={required.has(name)}
          value={props.values[name]}
          error={props.errors[name]}
          onChange={(value) => props.onChange({ ...props.values, [name]: value })}
        />
      ))}
    </div>
  );
}
