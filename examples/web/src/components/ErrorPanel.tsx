import { explain, problemsOf, type Problem } from "../errors.ts";

/**
 * Shows the typed errors of a failed operation (code + sentence), with a retry button when
 * repeating is safe (SERVICE_UNAVAILABLE retryable, network, RATE_LIMITED) and `onRetry` is given.
 * Problems tied to a form field are left to that field (see FieldError) unless `includeFieldProblems`.
 */
export function ErrorPanel(props: { error: unknown; onRetry?: () => void; includeFieldProblems?: boolean }) {
  const problems = problemsOf(props.error).filter(
    (p) => props.includeFieldProblems || !(p.code === "BAD_USER_INPUT" && p.field),
  );
  if (problems.length === 0) return null;
  const retryable = problems.some((p) => p.retryable);
  return (
    <div className="error-panel" role="alert">
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            <span className="code">{p.code}</span> {explain(p)}
          </li>
        ))}
      </ul>
      {retryable && props.onRetry ? (
        <button type="button" onClick={props.onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** The BAD_USER_INPUT problem of one field, or undefined. */
export function fieldProblem(error: unknown, field: string): Problem | undefined {
  if (!error) return undefined;
  return problemsOf(error).find((p) => p.code === "BAD_USER_INPUT" && p.field === field);
}

/** The message next to a form field; its id is what the input's aria-describedby points at. */
export function FieldError(props: { id: string; problem: Problem | undefined | string }) {
  const text = typeof props.problem === "string" ? props.problem : props.problem?.message;
  if (!text) return null;
  return (
    <p className="field-error" id={props.id}>
      {typeof props.problem === "string" ? null : <span className="code">BAD_USER_INPUT</span>} {text}
    </p>
  );
}
