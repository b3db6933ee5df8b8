-- Drip-feed run by the engine (issue 12): each run is its own provider order. The orders row keeps
-- the feed (its link held until the last run ends, R-ONE-ACTIVE-PER-LINK) and points at the run in
-- flight (provider_order_id, upstream_*), so the batched provider sync follows it like any order;
-- this table keeps every run for REST, API v2 `status` (`runs`) and support.

-- CreateTable
CREATE TABLE "order_runs" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "run_index" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "provider_order_id" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "start_count" INTEGER,
    "remains" INTEGER,
    "refunded" DECIMAL(20,5) NOT NULL DEFAULT 0,
    "reason" TEXT,
    "sent_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "order_runs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "order_runs_status_check" CHECK ("status" IN ('pending', 'in_progress', 'completed', 'partial', 'canceled')),
    CONSTRAINT "order_runs_quantity_check" CHECK ("quantity" > 0 AND "run_index" > 0)
);

-- CreateIndex
CREATE UNIQUE INDEX "order_runs_order_id_run_index_key" ON "order_runs"("order_id", "run_index");

-- CreateIndex
CREATE INDEX "order_runs_provider_order_id_idx" ON "order_runs"("provider_order_id");

-- AddForeignKey
ALTER TABLE "order_runs" ADD CONSTRAINT "order_runs_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
