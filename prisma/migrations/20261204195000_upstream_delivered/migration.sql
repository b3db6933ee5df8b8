-- A subscription's per-post detail as the provider sync last heard it (issue 12): what each served
-- post got (JSON array, null where the provider did not say). A workflow run that continues as new
-- catches up from the row (upstreamState); with only the count of posts it would take a post whose
-- signal it missed as served at max, and refund less than R-SUBSCRIPTION-UNSERVED gives.
ALTER TABLE "orders" ADD COLUMN "upstream_delivered" JSONB;
