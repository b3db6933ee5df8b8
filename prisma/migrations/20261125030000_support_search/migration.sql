-- Support's order search (issue 6, GET /support/orders): find an order by the provider's order id,
-- as a provider's support ticket names it, without scanning every order.

-- CreateIndex
CREATE INDEX "orders_provider_order_id_idx" ON "orders"("provider_order_id");
