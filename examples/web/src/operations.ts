/**
 * Every GraphQL operation the web client sends, typed by graphql-codegen against the composed
 * supergraph (`pnpm --filter @boxoffice/web generate` writes src/generated/).
 */
import { graphql } from "./generated/index.ts";

export const ME = graphql(`
  query Me {
    me {
      id
      email
    }
  }
`);

export const SIGN_UP = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      user {
        id
        email
      }
    }
  }
`);

export const SIGN_IN = graphql(`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      user {
        id
        email
      }
    }
  }
`);

export const SIGN_OUT = graphql(`
  mutation SignOut {
    signOut
  }
`);

export const LISTINGS = graphql(`
  query Listings($filter: ListingFilter, $first: Int, $after: String, $waitFor: ConsistencyToken) {
    listings(filter: $filter, first: $first, after: $after, waitFor: $waitFor) {
      edges {
        cursor
        node {
          id
          title
          priceMinor
          currency
          availability
          seller {
            id
          }
        }
      }
      endCursor
      hasNextPage
    }
  }
`);

export const CREATE_TICKET = graphql(`
  mutation CreateTicket($input: CreateTicketInput!) {
    createTicket(input: $input) {
      id
      title
      priceMinor
      currency
      status
      consistencyToken
    }
  }
`);

export const CREATE_ORDER = graphql(`
  mutation CreateOrder($ticketId: ID!) {
    createOrder(ticketId: $ticketId) {
      id
      status
      amountMinor
      currency
      expiresAt
      consistencyToken
    }
  }
`);

export const ORDER = graphql(`
  query Order($id: ID!, $waitFor: ConsistencyToken) {
    order(id: $id, waitFor: $waitFor) {
      id
      status
      cancellationReason
      amountMinor
      currency
      expiresAt
      ticket {
        id
        title
      }
    }
  }
`);

export const PAY_FOR_ORDER = graphql(`
  mutation PayForOrder($orderId: ID!, $paymentToken: String!, $idempotencyKey: String!) {
    payForOrder(orderId: $orderId, paymentToken: $paymentToken, idempotencyKey: $idempotencyKey) {
      id
      status
      failureReason
      amountMinor
      currency
      consistencyToken
    }
  }
`);

export const CANCEL_ORDER = graphql(`
  mutation CancelOrder($id: ID!) {
    cancelOrder(id: $id) {
      id
      status
      cancellationReason
      consistencyToken
    }
  }
`);

export const MY_ORDERS = graphql(`
  query MyOrders($waitFor: ConsistencyToken) {
    me {
      id
      orders(waitFor: $waitFor) {
        orderId
        ticketTitle
        amount {
          amountMinor
          currency
        }
        status
        placedAt
      }
    }
  }
`);

export const MY_SALES = graphql(`
  query MySales {
    me {
      id
      sales {
        items {
          orderId
          ticketTitle
          amount {
            amountMinor
            currency
          }
          placedAt
        }
        totalRevenue {
          amountMinor
          currency
        }
      }
    }
  }
`);
