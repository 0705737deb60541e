import { useMutation, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import type { SessionUser } from "../App.tsx";
import { ErrorPanel, fieldProblem } from "../components/ErrorPanel.tsx";
import { Field } from "../components/Field.tsx";
import { rememberWrite, useLatestWrite } from "../consistency.ts";
import { formatMoney } from "../money.ts";
import { CREATE_ORDER, LISTINGS } from "../operations.ts";
import { href, navigate } from "../router.ts";

/** Listings per page (the storefront allows 1 to 100). */
export const PAGE_SIZE = 5;

function ReserveButton(props: { ticketId: string; title: string }) {
  const [createOrder, { loading, error }] = useMutation(CREATE_ORDER);
  const reserve = async () => {
    try {
      const result = await createOrder({ variables: { ticketId: props.ticketId } });
      if (result.data) {
        // The storefront (availability, my orders) reflects the order once it has this token.
        rememberWrite(result.data.createOrder.consistencyToken);
        navigate(`/orders/${result.data.createOrder.id}`);
      }
    } catch {
      // shown below from `error`
    }
  };
  return (
    <>
      <button
        type="button"
        onClick={() => void reserve()}
        disabled={loading}
        aria-label={`Reserve ${props.title}`}
      >
        {loading ? "Reserving…" : "Reserve"}
      </button>
      {error ? <ErrorPanel error={error} includeFieldProblems onRetry={() => void reserve()} /> : null}
    </>
  );
}

/** Browse and search the storefront's listings, a page at a time; reserve one to buy it. */
export function ListingsPage(props: { user: SessionUser | null }) {
  const [text, setText] = useState("");
  const [onlyAvailable, setOnlyAvailable] = useState(false);
  const [filter, setFilter] = useState<{ search: string; onlyAvailable: boolean }>({
    search: "",
    onlyAvailable: false,
  });
  // Cursors of the pages before this one: Previous pops, Next pushes (keyset pagination).
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  // This tab's latest write (a ticket listed, an order placed) shows in the first answer.
  const waitFor = useLatestWrite();
  const { data, loading, error, refetch } = useQuery(LISTINGS, {
    variables: { filter, first: PAGE_SIZE, after, waitFor },
    fetchPolicy: "cache-and-network",
    notifyOnNetworkStatusChange: true,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ search: text, onlyAvailable });
    setCursors([null]);
    // The same search again still asks the server: new listings arrive all the time.
    void refetch({ filter: { search: text, onlyAvailable }, first: PAGE_SIZE, after: null, waitFor }).catch(
      () => undefined,
    );
  };

  const listings = data?.listings;
  const page = cursors.length;
  return (
    <section aria-labelledby="listings-title">
      <h1 id="listings-title" tabIndex={-1}>
        Listings
      </h1>
      <form className="search" role="search" onSubmit={submit}>
        <Field
          id="search"
          label="Search titles"
          type="search"
          value={text}
          placeholder="e.g. radiohead"
          onChange={(e) => setText(e.target.value)}
          problem={fieldProblem(error, "search")}
        />
        <div className="check">
          <input
            id="only-available"
            type="checkbox"
            checked={onlyAvailable}
            onChange={(e) => setOnlyAvailable(e.target.checked)}
          />
          <label htmlFor="only-available">Only tickets I can buy now</label>
        </div>
        <button type="submit">Search</button>
      </form>

      <div aria-live="polite" className="status-line">
        {loading ? <p>Loading listings…</p> : null}
      </div>
      {error ? <ErrorPanel error={error} onRetry={() => void refetch().catch(() => undefined)} /> : null}
      {listings && listings.edges.length === 0 && !loading ? (
        <p className="empty">
          {filter.search ? `No listings match “${filter.search}”.` : "No tickets are listed yet."}{" "}
          <a href={href("/sell")}>Sell a ticket</a>
        </p>
      ) : null}
      {listings && listings.edges.length > 0 ? (
        <ul className="cards" aria-label={`Listings, page ${page}`}>
          {listings.edges.map(({ node }) => {
            const mine = props.user?.id === node.seller.id;
            return (
              <li key={node.id} className="card">
                <h2>{node.title}</h2>
                <p className="price">{formatMoney(node.priceMinor, node.currency)}</p>
                <p>
                  <span className={`badge ${node.availability.toLowerCase()}`}>{node.availability}</span>
                  {mine ? <span className="mine"> Your listing</span> : null}
                </p>
                {node.availability === "AVAILABLE" && !mine ? (
                  props.user ? (
                    <ReserveButton ticketId={node.id} title={node.title} />
                  ) : (
                    <a href={href("/signin")}>Sign in to buy</a>
                  )
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={page === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {page}</span>
        <button
          type="button"
          disabled={!listings?.hasNextPage || !listings.endCursor}
          onClick={() => setCursors((c) => [...c, listings?.endCursor ?? null])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
