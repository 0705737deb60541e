import { useApolloClient, useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { ErrorPanel, fieldProblem } from "../components/ErrorPanel.tsx";
import { Field } from "../components/Field.tsx";
import { SIGN_IN, SIGN_UP } from "../operations.ts";
import { href, navigate } from "../router.ts";

/** Sign in or sign up: e-mail and password; the gateway answers with the http-only session cookie. */
export function AuthPage(props: { mode: "signIn" | "signUp" }) {
  const client = useApolloClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [signUp] = useMutation(SIGN_UP);
  const [signIn] = useMutation(SIGN_IN);
  const signingUp = props.mode === "signUp";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { email, password };
      if (signingUp) await signUp({ variables: { input } });
      else await signIn({ variables: { input } });
      // Every cached answer belonged to the previous (or no) session.
      await client.resetStore();
      navigate("/");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="auth-title" className="narrow">
      <h1 id="auth-title" tabIndex={-1}>
        {signingUp ? "Create an account" : "Sign in"}
      </h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field
          id="email"
          label="E-mail"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          problem={fieldProblem(error, "email")}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete={signingUp ? "new-password" : "current-password"}
          required
          hint={signingUp ? "12 to 128 characters, not your e-mail address." : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          problem={fieldProblem(error, "password")}
        />
        {error ? <ErrorPanel error={error} /> : null}
        <button type="submit" disabled={busy}>
          {busy ? "Please wait…" : signingUp ? "Sign up" : "Sign in"}
        </button>
      </form>
      <p>
        {signingUp ? (
          <>
            Already have an account? <a href={href("/signin")}>Sign in</a>
          </>
        ) : (
          <>
            New here? <a href={href("/signup")}>Create an account</a>
          </>
        )}
      </p>
    </section>
  );
}
