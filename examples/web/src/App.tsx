import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useRef } from "react";
import { ErrorPanel } from "./components/ErrorPanel.tsx";
import { forgetWrites } from "./consistency.ts";
import { ME, SIGN_OUT } from "./operations.ts";
import { AuthPage } from "./pages/AuthPage.tsx";
import { ListingsPage } from "./pages/ListingsPage.tsx";
import { MyOrdersPage } from "./pages/MyOrdersPage.tsx";
import { MySalesPage } from "./pages/MySalesPage.tsx";
import { OrderPage } from "./pages/OrderPage.tsx";
import { SellPage } from "./pages/SellPage.tsx";
import { href, navigate, useRoute } from "./router.ts";

/** The signed-in user as the pages need it (null when signed out). */
export interface SessionUser {
  id: string;
  email: string | null;
}

const NAV = [
  { path: "/", label: "Listings" },
  { path: "/sell", label: "Sell a ticket" },
  { path: "/orders", label: "My orders" },
  { path: "/sales", label: "My sales" },
];

function page(route: string, user: SessionUser | null) {
  const order = /^\/orders\/([^/]+)$/.exec(route);
  if (order) return <OrderPage id={decodeURIComponent(order[1]!)} user={user} />;
  switch (route) {
    case "/sell":
      return <SellPage user={user} />;
    case "/orders":
      return <MyOrdersPage />;
    case "/sales":
      return <MySalesPage />;
    case "/signin":
      return <AuthPage mode="signIn" />;
    case "/signup":
      return <AuthPage mode="signUp" />;
    default:
      return <ListingsPage user={user} />;
  }
}

/** Layout: header with navigation and the session, and the page of the current route. */
export function App() {
  const route = useRoute();
  const client = useApolloClient();
  const me = useQuery(ME, { fetchPolicy: "cache-and-network" });
  const [signOut, signingOut] = useMutation(SIGN_OUT);
  const user = me.data?.me ?? null;
  const main = useRef<HTMLElement>(null);

  // A new page moves keyboard and screen-reader focus to its heading, as a page load would.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [route]);

  const onSignOut = async () => {
    try {
      await signOut();
    } finally {
      // Whatever the server said, forget every cached answer of this session.
      await client.resetStore().catch(() => undefined);
      forgetWrites();
      navigate("/");
    }
  };

  return (
    <>
      <header className="site-header">
        <a className="brand" href={href("/")}>
          Boxoffice
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.path}>
                <a
                  href={href(item.path)}
                  aria-current={
                    route === item.path || (item.path === "/orders" && route.startsWith("/orders/"))
                      ? "page"
                      : undefined
                  }
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          {user ? (
            <>
              <span className="who">
                Signed in as <strong>{user.email}</strong>
              </span>
              <button type="button" onClick={() => void onSignOut()} disabled={signingOut.loading}>
                Sign out
              </button>
            </>
          ) : me.loading && !me.data ? (
            <span className="who">Checking session…</span>
          ) : (
            <>
              <a href={href("/signin")}>Sign in</a>
              <a href={href("/signup")}>Sign up</a>
            </>
          )}
        </div>
      </header>
      {me.error ? (
        <div className="banner">
          <ErrorPanel error={me.error} onRetry={() => void me.refetch().catch(() => undefined)} />
        </div>
      ) : null}
      {signingOut.error ? (
        <div className="banner">
          <ErrorPanel error={signingOut.error} />
        </div>
      ) : null}
      <main id="main" ref={main}>
        {page(route, user)}
      </main>
    </>
  );
}
