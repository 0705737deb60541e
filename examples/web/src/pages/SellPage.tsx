import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import type { SessionUser } from "../App.tsx";
import { ErrorPanel, fieldProblem } from "../components/ErrorPanel.tsx";
import { Field } from "../components/Field.tsx";
import { rememberWrite } from "../consistency.ts";
import { formatMoney, minorDigits, parsePrice } from "../money.ts";
import { CREATE_TICKET } from "../operations.ts";
import { href } from "../router.ts";

/** List a ticket for sale: title, price (in the currency's major unit) and ISO 4217 currency. */
export function SellPage(props: { user: SessionUser | null }) {
  const [title, setTitle] = useState("");
  const [price, setPrice] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [priceProblem, setPriceProblem] = useState<string | undefined>();
  const [createTicket, { loading, error, data, reset }] = useMutation(CREATE_TICKET);

  if (!props.user) {
    return (
      <section aria-labelledby="sell-title" className="narrow">
        <h1 id="sell-title" tabIndex={-1}>
          Sell a ticket
        </h1>
        <p className="empty">
          <a href={href("/signin")}>Sign in</a> or <a href={href("/signup")}>create an account</a> to sell a
          ticket.
        </p>
      </section>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const code = currency.trim().toUpperCase();
    const priceMinor = parsePrice(price, code);
    if (priceMinor === null) {
      reset();
      const digits = minorDigits(code);
      setPriceProblem(
        digits === 0
          ? "Enter a whole number, e.g. 4500."
          : `Enter a number like 45 or 45.${"5".repeat(digits)}.`,
      );
      return;
    }
    setPriceProblem(undefined);
    try {
      const result = await createTicket({ variables: { input: { title, priceMinor, currency: code } } });
      rememberWrite(result.data?.createTicket.consistencyToken);
      setTitle("");
      setPrice("");
    } catch {
      // shown from `error`
    }
  };

  const created = data?.createTicket;
  return (
    <section aria-labelledby="sell-title" className="narrow">
      <h1 id="sell-title" tabIndex={-1}>
        Sell a ticket
      </h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field
          id="title"
          label="What is the ticket for?"
          hint="Event, date, seat — 1 to 200 characters."
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          problem={fieldProblem(error, "title")}
        />
        <Field
          id="price"
          label="Price"
          inputMode="decimal"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          problem={priceProblem ?? fieldProblem(error, "priceMinor")}
        />
        <Field
          id="currency"
          label="Currency"
          hint="ISO 4217 code, e.g. EUR, GBP, JPY."
          maxLength={3}
          autoCapitalize="characters"
          value={currency}
          onChange={(e) => setCurrency(e.target.value)}
          problem={fieldProblem(error, "currency")}
        />
        {error ? <ErrorPanel error={error} /> : null}
        <button type="submit" disabled={loading}>
          {loading ? "Listing…" : "List ticket"}
        </button>
      </form>
      <div role="status">
        {created ? (
          <p className="success">
            Listed “{created.title}” for {formatMoney(created.priceMinor, created.currency)}. It appears in{" "}
            <a href={href("/")}>the listings</a> in a moment.
          </p>
        ) : null}
      </div>
    </section>
  );
}
