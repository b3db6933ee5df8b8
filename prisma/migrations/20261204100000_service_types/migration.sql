-- Every order type a panel sells (issue 12): each service has a type (domain/service-types.ts) and
-- a drip-feed setting; each order keeps its type and the type's fields, fixed at placement
-- (R-PRICE-SNAPSHOT), so the dispatch sends them to the provider unchanged.

-- Types written the way API v2 prints them ("Custom Comments") become the keys ("custom_comments").
UPDATE "services" SET "type" = lower(regexp_replace(trim("type"), '[[:space:]-]+', '_', 'g'));

ALTER TABLE "services" ADD CONSTRAINT "services_type_valid" CHECK ("type" IN (
  'default', 'package', 'custom_comments', 'custom_comments_package', 'mentions', 'mentions_with_hashtags',
  'mentions_custom_list', 'mentions_hashtag', 'mentions_user_followers', 'mentions_media_likers',
  'comment_likes', 'comment_replies', 'poll', 'seo', 'subscriptions'));

-- 'none': no drip-feed; 'engine': the order's workflow sends one provider order per run;
-- 'provider': runs/interval go to the provider, which runs the feed. Default services only.
ALTER TABLE "services" ADD COLUMN "dripfeed" TEXT NOT NULL DEFAULT 'none';
ALTER TABLE "services" ADD CONSTRAINT "services_dripfeed_valid" CHECK (
  "dripfeed" IN ('none', 'engine', 'provider') AND ("dripfeed" = 'none' OR "type" = 'default'));

-- The order's type and its fields (OrderInput serviceType, providerFields, dripFeed, subscription, executeAt).
ALTER TABLE "orders" ADD COLUMN "service_type" TEXT NOT NULL DEFAULT 'default';
ALTER TABLE "orders" ADD COLUMN "provider_fields" JSONB;
ALTER TABLE "orders" ADD COLUMN "drip_feed" JSONB;
ALTER TABLE "orders" ADD COLUMN "subscription" JSONB;
ALTER TABLE "orders" ADD COLUMN "execute_at" TIMESTAMP(3);
ALTER TABLE "orders" ADD CONSTRAINT "orders_service_type_valid" CHECK ("service_type" IN (
  'default', 'package', 'custom_comments', 'custom_comments_package', 'mentions', 'mentions_with_hashtags',
  'mentions_custom_list', 'mentions_hashtag', 'mentions_user_followers', 'mentions_media_likers',
  'comment_likes', 'comment_replies', 'poll', 'seo', 'subscriptions'));

-- Support searches orders by type.
CREATE INDEX "orders_service_type_idx" ON "orders"("service_type");
