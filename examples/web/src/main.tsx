import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { loadConfig } from "./config.ts";
import "./styles.css";

const config = await loadConfig();
// The session is an http-only cookie set by the gateway's origin: `credentials: "include"` makes
// the browser send it on these cross-origin requests (the gateway allows this origin with
// credentials). The app itself never sees the token.
const client = new ApolloClient({
  link: new HttpLink({ uri: config.gatewayUrl, credentials: "include" }),
  cache: new InMemoryCache({
    typePolicies: { Query: { fields: { listings: { keyArgs: ["filter", "first", "after"] } } } },
  }),
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <App />
    </ApolloProvider>
  </StrictMode>,
);
