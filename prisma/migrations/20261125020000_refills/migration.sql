-- Refills (restoring drops, issue "Refill guarantees"): one row per refill an order's workflow
-- accepted, mirrored from the workflow (the source of truth), and followed by the provider sync.
--
-- request_id: the client's id of the request (REST requestId / Idempotency-Key, API v2 makes one per
--   call); unique per order, so a retried request finds its refill instead of making a second one.
-- send_attempt / send_state: the fence around the provider's `refill` call (which has no idempotency
--   key), like orders.dispatch_state: 'sending' is committed BEFORE the call; an activity attempt that
--   finds 'sending' for its attempt never sends again. Support's retry (R-REFILL-SUPPORT) is the next
--   attempt of the same row.
-- upstream_status / last_checked_at belong to the provider sync: what `refill_status` said last and
--   when, so it signals the order's workflow only on a change and polls the least recently checked first.
-- orders.refill_void_reason: R-REFILL-VOID, written when a request finds the guarantee void.

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "refill_void_reason" TEXT;

-- CreateTable
CREATE TABLE "refills" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "provider_refill_id" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "requested_by" JSONB NOT NULL,
    "request_id" TEXT NOT NULL,
    "reason" TEXT,
    "send_attempt" INTEGER NOT NULL DEFAULT 0,
    "send_state" TEXT,
    "upstream_status" TEXT,
    "last_checked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "completed_at" TIMESTAMP(3),

    CONSTRAINT "refills_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "refills_order_id_request_id_key" ON "refills"("order_id", "request_id");

-- CreateIndex
CREATE INDEX "refills_status_last_checked_at_idx" ON "refills"("status", "last_checked_at");

-- AddForeignKey
ALTER TABLE "refills" ADD CONSTRAINT "refills_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Checks the schema cannot express.
ALTER TABLE "refills" ADD CONSTRAINT "refills_status_valid" CHECK ("status" IN ('pending', 'in_progress', 'completed', 'rejected', 'failed'));
ALTER TABLE "refills" ADD CONSTRAINT "refills_send_state_valid" CHECK ("send_state" IS NULL OR "send_state" IN ('sending', 'answered'));
ALTER TABLE "refills" ADD CONSTRAINT "refills_upstream_status_valid" CHECK ("upstream_status" IS NULL OR "upstream_status" IN ('pending', 'in_progress', 'completed', 'rejected'));
ALTER TABLE "refills" ADD CONSTRAINT "refills_request_id_not_empty" CHECK (length("request_id") > 0);
-- Only a completed refill has a completion time.
ALTER TABLE "refills" ADD CONSTRAINT "refills_completed_at_valid" CHECK (("status" = 'completed') = ("completed_at" IS NOT NULL));
