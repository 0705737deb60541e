import { useQuery } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { ErrorPanel } from "../components/ErrorPanel.tsx";
import { useLatestWrite } from "../consistency.ts";
import { formatMoney } from "../money.ts";
import { MY_ORDERS } from "../operations.ts";
import { href } from "../router.ts";

/**
 * The buyer's orders from the storefront read model, as of this tab's latest write at least (an order
 * just placed or paid shows on the first read), refreshed while one is still PENDING (its expiry, or
 * a payment from elsewhere, may change it).
 */
export function MyOrdersPage() {
  const waitFor = useLatestWrite();
  // While an order is PENDING its payment may complete it any moment (events reach the read model).
  const [polling, setPolling] = useState(false);
  const { data, loading, error, refetch } = useQuery(MY_ORDERS, {
    variables: { waitFor },
    fetchPolicy: "cache-and-network",
    pollInterval: polling ? 2000 : 0,
  });
  const orders = data?.me?.orders;
  const pending = orders?.some((o) => o.status === "PENDING") ?? false;
  useEffect(() => setPolling(pending), [pending]);
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title" tabIndex={-1}>
        My orders
      </h1>
      {loading && !data ? <p aria-live="polite">Loading your orders…</p> : null}
      {error ? <ErrorPanel error={error} onRetry={() => void refetch().catch(() => undefined)} /> : null}
      {data && !data.me ? (
        <p className="empty">
          <a href={href("/signin")}>Sign in</a> to see your orders.
        </p>
      ) : null}
      {orders && orders.length === 0 ? (
        <p className="empty">
          You have no orders yet. <a href={href("/")}>Browse listings</a>
        </p>
      ) : null}
      {orders && orders.length > 0 ? (
        <ul className="cards" aria-label="Orders">
          {orders.map((o) => (
            <li key={o.orderId} className="card">
              <h2>{o.ticketTitle ?? "A ticket"}</h2>
              <p className="price">{formatMoney(o.amount.amountMinor, o.amount.currency)}</p>
              <p>
                <span className={`badge ${o.status.toLowerCase()}`}>{o.status}</span>{" "}
                <span className="muted">placed {new Date(o.placedAt).toLocaleString()}</span>
              </p>
              <a href={href(`/orders/${o.orderId}`)}>
                {o.status === "PENDING" ? "Pay or cancel" : "Details"}
                <span className="visually-hidden"> for {o.ticketTitle ?? "this order"}</span>
              </a>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
