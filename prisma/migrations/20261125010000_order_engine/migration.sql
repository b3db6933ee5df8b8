-- The order engine's own bookkeeping on orders.
--
-- dispatch_state: 'sending' is written before the provider's `add` is called and 'answered' once
-- its answer is recorded. An activity attempt that finds 'sending' knows an earlier attempt may
-- have placed the order upstream (a crash or timeout mid-call) and must not send `add` blindly.
-- upstream_* and last_checked_at belong to the provider sync: the last state the provider reported
-- and when, so each round polls the least recently checked orders first and signals an order's
-- workflow only when its upstream state changed.

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "dispatch_state" TEXT,
ADD COLUMN     "dispatch_attempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "last_checked_at" TIMESTAMP(3),
ADD COLUMN     "upstream_status" TEXT,
ADD COLUMN     "upstream_start_count" INTEGER,
ADD COLUMN     "upstream_remains" INTEGER;

-- CreateIndex
CREATE INDEX "orders_provider_id_last_checked_at_idx" ON "orders"("provider_id", "last_checked_at");

-- Checks the schema cannot express.
ALTER TABLE "orders" ADD CONSTRAINT "orders_dispatch_state_valid" CHECK ("dispatch_state" IS NULL OR "dispatch_state" IN ('sending', 'answered'));
