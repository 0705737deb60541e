import { useQuery } from "@apollo/client/react";
import { ErrorPanel } from "../components/ErrorPanel.tsx";
import { formatMoney } from "../money.ts";
import { MY_SALES } from "../operations.ts";
import { href } from "../router.ts";

/** The seller's sold tickets and revenue per currency, from the storefront read model. */
export function MySalesPage() {
  const { data, loading, error, refetch } = useQuery(MY_SALES, { fetchPolicy: "cache-and-network" });
  const sales = data?.me?.sales;
  return (
    <section aria-labelledby="sales-title">
      <h1 id="sales-title" tabIndex={-1}>
        My sales
      </h1>
      {loading && !data ? <p aria-live="polite">Loading your sales…</p> : null}
      {error ? <ErrorPanel error={error} onRetry={() => void refetch().catch(() => undefined)} /> : null}
      {data && !data.me ? (
        <p className="empty">
          <a href={href("/signin")}>Sign in</a> to see your sales.
        </p>
      ) : null}
      {sales && sales.items.length === 0 ? (
        <p className="empty">
          Nothing sold yet. <a href={href("/sell")}>Sell a ticket</a>
        </p>
      ) : null}
      {sales && sales.items.length > 0 ? (
        <>
          <p className="revenue">
            Revenue: {sales.totalRevenue.map((m) => formatMoney(m.amountMinor, m.currency)).join(" + ")}
          </p>
          <ul className="cards" aria-label="Sales">
            {sales.items.map((s) => (
              <li key={s.orderId} className="card">
                <h2>{s.ticketTitle}</h2>
                <p className="price">{formatMoney(s.amount.amountMinor, s.amount.currency)}</p>
                <p className="muted">sold {new Date(s.placedAt).toLocaleString()}</p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <button type="button" className="secondary" onClick={() => void refetch().catch(() => undefined)}>
        Refresh
      </button>
    </section>
  );
}
