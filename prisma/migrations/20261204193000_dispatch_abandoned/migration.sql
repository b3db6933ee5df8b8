-- dispatch_state 'abandoned': the workflow stopped dispatching (a cancel, or "try later" for 24 h)
-- before the provider took the order. It closes the dispatch fence (no later attempt sends `add`)
-- without touching the status: the row goes final only in the workflow's finish(), after the
-- refund, so a workflow lost in between leaves an unsettled row that the order recovery resumes
-- (its new run finds the fence closed and ends canceled with the refund) instead of a final row
-- whose refund was never posted.
ALTER TABLE "orders" DROP CONSTRAINT "orders_dispatch_state_valid";
ALTER TABLE "orders" ADD CONSTRAINT "orders_dispatch_state_valid" CHECK ("dispatch_state" IS NULL OR "dispatch_state" IN ('sending', 'answered', 'abandoned'));
