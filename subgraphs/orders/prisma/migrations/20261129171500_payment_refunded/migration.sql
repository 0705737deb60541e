-- A capture the payments subgraph refunded (`payment.refunded`, src/events/payment-refunded.handler.ts).
ALTER TYPE "payment_disposition" ADD VALUE 'REFUNDED';
