import { useMutation, useQuery } from "@apollo/client/react";
import { useRef, useState, type FormEvent } from "react";
import type { SessionUser } from "../App.tsx";
import { ErrorPanel } from "../components/ErrorPanel.tsx";
import { rememberWrite, useLatestWrite } from "../consistency.ts";
import { problemsOf } from "../errors.ts";
import { formatMoney } from "../money.ts";
import { CANCEL_ORDER, ORDER, PAY_FOR_ORDER } from "../operations.ts";
import { href } from "../router.ts";

/** The sandbox provider's tokens (README, "Sandbox payment tokens"). */
const TOKENS = [
  { token: "tok_success", label: "Card that pays" },
  { token: "tok_decline", label: "Card that is declined" },
  { token: "tok_insufficient_funds", label: "Card without funds" },
  { token: "tok_transient", label: "Provider briefly down (the first try fails; retry succeeds)" },
];

/**
 * One order: its status, pay with a sandbox token, or cancel. The order is payable the moment it is
 * created (payments waits, bounded, for an order it has not seen yet). After a successful payment the
 * order is read again with the payment's consistency token, so the first answer is already COMPLETED
 * (the payment's events have completed it) — no polling.
 */
export function OrderPage(props: { id: string; user: SessionUser | null }) {
  const [token, setToken] = useState("tok_success");
  const waitFor = useLatestWrite();
  // The idempotency key of the current payment attempt: reused for a retry after a retryable
  // failure (charged at most once), replaced after a final answer (a declined card needs a new key).
  const attempt = useRef<{ key: string; token: string; final: boolean } | null>(null);
  const order = useQuery(ORDER, {
    variables: { id: props.id, waitFor },
    fetchPolicy: "cache-and-network",
    skip: !props.user,
  });
  const [payForOrder, payment] = useMutation(PAY_FOR_ORDER);
  const [cancelOrder, cancelling] = useMutation(CANCEL_ORDER);

  const pay = async () => {
    const current = attempt.current;
    if (!current || current.final || current.token !== token) {
      attempt.current = { key: crypto.randomUUID(), token, final: false };
    }
    const { key } = attempt.current!;
    try {
      const result = await payForOrder({
        variables: { orderId: props.id, paymentToken: token, idempotencyKey: key },
      });
      attempt.current!.final = true;
      // A new token re-reads the order (new variables), answered once the payment completed it.
      rememberWrite(result.data?.payForOrder.consistencyToken);
    } catch (error) {
      attempt.current!.final = !problemsOf(error).some((p) => p.retryable);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void pay();
  };

  if (!props.user) {
    return (
      <section aria-labelledby="order-title" className="narrow">
        <h1 id="order-title" tabIndex={-1}>
          Order
        </h1>
        <p className="empty">
          <a href={href("/signin")}>Sign in</a> to see this order.
        </p>
      </section>
    );
  }

  const o = order.data?.order;
  const result = payment.data?.payForOrder;
  // Paid: the order is being re-read with the payment's token (a moment, while its events travel).
  const succeeded = result?.status === "SUCCEEDED";
  return (
    <section aria-labelledby="order-title" className="narrow">
      <h1 id="order-title" tabIndex={-1}>
        {o ? `Order: ${o.ticket.title ?? "ticket"}` : "Order"}
      </h1>
      {order.loading && !order.data ? <p aria-live="polite">Loading the order…</p> : null}
      {order.error ? (
        <ErrorPanel error={order.error} onRetry={() => void order.refetch().catch(() => undefined)} />
      ) : null}
      {order.data && !o ? <p className="empty">There is no order with this id.</p> : null}
      {o ? (
        <>
          <dl className="facts">
            <dt>Amount</dt>
            <dd>{formatMoney(o.amountMinor, o.currency)}</dd>
            <dt>Status</dt>
            <dd>
              <span role="status" aria-live="polite" className={`badge ${o.status.toLowerCase()}`}>
                {o.status}
              </span>
              {o.status === "PENDING" && succeeded ? <span> — payment received, completing…</span> : null}
            </dd>
            {o.status === "PENDING" && !succeeded ? (
              <>
                <dt>Reserved until</dt>
                <dd>{new Date(o.expiresAt).toLocaleString()}</dd>
              </>
            ) : null}
            {o.cancellationReason ? (
              <>
                <dt>Cancelled because</dt>
                <dd>{o.cancellationReason === "EXPIRED" ? "it was not paid in time" : "you cancelled it"}</dd>
              </>
            ) : null}
          </dl>
          {o.status === "COMPLETED" ? (
            <p className="success">
              Paid — the ticket is yours. See <a href={href("/orders")}>my orders</a>.
            </p>
          ) : null}
          {o.status === "PENDING" && !succeeded ? (
            <form onSubmit={submit} className="pay">
              <fieldset>
                <legend>Sandbox payment token</legend>
                {TOKENS.map((t) => (
                  <div className="check" key={t.token}>
                    <input
                      type="radio"
                      id={t.token}
                      name="token"
                      value={t.token}
                      checked={token === t.token}
                      onChange={() => setToken(t.token)}
                    />
                    <label htmlFor={t.token}>
                      <code>{t.token}</code> {t.label}
                    </label>
                  </div>
                ))}
              </fieldset>
              {payment.error ? (
                <ErrorPanel error={payment.error} includeFieldProblems onRetry={() => void pay()} />
              ) : null}
              <div role="status">
                {result && result.status !== "SUCCEEDED" ? (
                  <p className="problem">
                    Payment {result.status}
                    {result.failureReason ? `: ${result.failureReason}` : ""}. Choose a card and pay again.
                  </p>
                ) : null}
              </div>
              <div className="actions">
                <button type="submit" disabled={payment.loading}>
                  {payment.loading ? "Paying…" : `Pay ${formatMoney(o.amountMinor, o.currency)}`}
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={cancelling.loading}
                  onClick={() =>
                    void cancelOrder({ variables: { id: o.id } })
                      .then((r) => rememberWrite(r.data?.cancelOrder.consistencyToken))
                      .catch(() => undefined)
                  }
                >
                  Cancel order
                </button>
              </div>
              {cancelling.error ? <ErrorPanel error={cancelling.error} /> : null}
            </form>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
