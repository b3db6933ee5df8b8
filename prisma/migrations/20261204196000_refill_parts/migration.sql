-- Refills of a drip-feed the engine runs (issue 12): each run was its own provider order, so one
-- refill request asks the provider to refill every run order that delivered. The request is one
-- refills row (what the user and API v2 see, no provider refill id of its own); each run order's
-- provider refill is a part: a refills row with parent_refill_id and run_index, its own send fence,
-- followed by the provider sync like any refill. The order's workflow combines the parts' statuses.
ALTER TABLE "refills" ADD COLUMN "parent_refill_id" INTEGER;
ALTER TABLE "refills" ADD COLUMN "run_index" INTEGER;

-- CreateIndex
CREATE INDEX "refills_parent_refill_id_idx" ON "refills"("parent_refill_id");

-- AddForeignKey
ALTER TABLE "refills" ADD CONSTRAINT "refills_parent_refill_id_fkey" FOREIGN KEY ("parent_refill_id") REFERENCES "refills"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
