-- Support's move of an order to another service (issue 6, R-SUBSTITUTE): the new provider gets the
-- part still undelivered, so the quantity sent upstream can differ from the order's quantity.

-- AlterTable
ALTER TABLE "orders" ADD COLUMN "dispatch_quantity" INTEGER;

-- The part sent on is never more than the order and never nothing.
ALTER TABLE "orders" ADD CONSTRAINT "orders_dispatch_quantity_check"
  CHECK ("dispatch_quantity" IS NULL OR ("dispatch_quantity" > 0 AND "dispatch_quantity" <= "quantity"));
