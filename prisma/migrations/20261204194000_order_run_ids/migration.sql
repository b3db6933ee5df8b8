-- A drip-feed's runs are orders a reseller can query (issue 12): API v2 `status` of a drip-feed lists
-- its runs' ids under `orders`, and `status` answers each of them. So a run's id comes from the
-- orders' own id sequence: it is never the id of an order (anyone's), and an id names one thing.
-- Runs made before get new ids from that sequence (nothing refers to order_runs.id).
ALTER TABLE "order_runs" ALTER COLUMN "id" SET DEFAULT nextval('orders_id_seq');
UPDATE "order_runs" SET "id" = nextval('orders_id_seq');
DROP SEQUENCE IF EXISTS "order_runs_id_seq";
