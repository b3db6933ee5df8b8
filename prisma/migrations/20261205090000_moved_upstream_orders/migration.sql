-- The upstream order a move (R-SUBSTITUTE) leaves at the old provider: the orders row forgets it (it
-- points at the new provider's order once one is sent), so this keeps it. The dispatch reconcile
-- (orders_by_link) never attaches one of these to an order: it was asked to cancel, and what it
-- delivered belongs to the order that moved.

-- CreateTable
CREATE TABLE "moved_upstream_orders" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "provider_id" INTEGER NOT NULL,
    "provider_order_id" TEXT NOT NULL,
    "moved_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "moved_upstream_orders_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "moved_upstream_orders_provider_id_provider_order_id_key" ON "moved_upstream_orders"("provider_id", "provider_order_id");

-- CreateIndex
CREATE INDEX "moved_upstream_orders_order_id_idx" ON "moved_upstream_orders"("order_id");

-- AddForeignKey
ALTER TABLE "moved_upstream_orders" ADD CONSTRAINT "moved_upstream_orders_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "moved_upstream_orders" ADD CONSTRAINT "moved_upstream_orders_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
