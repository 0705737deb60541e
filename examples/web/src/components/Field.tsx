import type { InputHTMLAttributes } from "react";
import { FieldError } from "./ErrorPanel.tsx";
import type { Problem } from "../errors.ts";

/** A labelled input with its error below it (announced through aria-describedby / aria-invalid). */
export function Field(
  props: { id: string; label: string; problem?: Problem | string | undefined; hint?: string } & Omit<
    InputHTMLAttributes<HTMLInputElement>,
    "id"
  >,
) {
  const { id, label, problem, hint, ...input } = props;
  const described = [hint ? `${id}-hint` : "", problem ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <input
        id={id}
        aria-invalid={problem ? true : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
      <FieldError id={`${id}-error`} problem={problem} />
    </div>
  );
}
