-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT,
    "balance" DECIMAL(20,5) NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "key_hash" TEXT NOT NULL,
    "key_prefix" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'user',
    "label" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "providers" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "api_url" TEXT NOT NULL,
    "api_key" TEXT NOT NULL,
    "supports_link_lookup" BOOLEAN NOT NULL DEFAULT false,
    "count_source_url" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "providers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "services" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'default',
    "provider_id" INTEGER NOT NULL,
    "provider_service_id" TEXT NOT NULL,
    "rate" DECIMAL(20,5) NOT NULL,
    "min" INTEGER NOT NULL,
    "max" INTEGER NOT NULL,
    "refill_kind" TEXT NOT NULL DEFAULT 'none',
    "refill_days" INTEGER,
    "cancelable" BOOLEAN NOT NULL DEFAULT false,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "services_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" SERIAL NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "service_id" INTEGER NOT NULL,
    "provider_id" INTEGER NOT NULL,
    "link" TEXT NOT NULL,
    "link_key" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "rate" DECIMAL(20,5) NOT NULL,
    "charge" DECIMAL(20,5) NOT NULL,
    "refill_kind" TEXT NOT NULL,
    "refill_days" INTEGER,
    "cancelable" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'new',
    "overdue" BOOLEAN NOT NULL DEFAULT false,
    "stalled" BOOLEAN NOT NULL DEFAULT false,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "provider_order_id" TEXT,
    "start_count" INTEGER,
    "remains" INTEGER,
    "refunded" DECIMAL(20,5) NOT NULL DEFAULT 0,
    "last_provider_answer" JSONB,
    "reject_reason" TEXT,
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "amount" DECIMAL(20,5) NOT NULL,
    "kind" TEXT NOT NULL,
    "order_id" INTEGER,
    "idempotency_key" TEXT NOT NULL,
    "reference" TEXT,
    "reason" TEXT,
    "balance_after" DECIMAL(20,5) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "order_id" INTEGER,
    "response_status" INTEGER NOT NULL,
    "response_body" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_records" (
    "id" SERIAL NOT NULL,
    "actor_user_id" INTEGER NOT NULL,
    "api_key_id" INTEGER,
    "action" TEXT NOT NULL,
    "order_id" INTEGER,
    "target_user_id" INTEGER,
    "reason" TEXT,
    "before" JSONB,
    "after" JSONB,
    "request_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_records_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_user_id_idx" ON "api_keys"("user_id");

-- CreateIndex
CREATE INDEX "services_provider_id_idx" ON "services"("provider_id");

-- CreateIndex
CREATE UNIQUE INDEX "orders_workflow_id_key" ON "orders"("workflow_id");

-- CreateIndex
CREATE INDEX "orders_user_id_id_idx" ON "orders"("user_id", "id" DESC);

-- CreateIndex
CREATE INDEX "orders_status_id_idx" ON "orders"("status", "id" DESC);

-- CreateIndex
CREATE INDEX "orders_created_at_idx" ON "orders"("created_at");

-- CreateIndex
CREATE INDEX "orders_link_key_idx" ON "orders"("link_key");

-- CreateIndex
CREATE INDEX "orders_provider_id_status_idx" ON "orders"("provider_id", "status");

-- CreateIndex
-- R-ONE-ACTIVE-PER-LINK: no two active orders for one normalised link, even under concurrency.
-- Declared in schema.prisma with the `partialIndexes` preview feature; the status list must stay
-- in step with the engine's active statuses (domain/order-status.ts ACTIVE_STATUSES). Written as
-- PostgreSQL prints it back, i.e. status IN ('new', 'pending', 'dispatch_uncertain', 'in_progress').
CREATE UNIQUE INDEX "orders_active_link_key" ON "orders"("link_key") WHERE (status = ANY (ARRAY['new'::text, 'pending'::text, 'dispatch_uncertain'::text, 'in_progress'::text]));

-- CreateIndex
CREATE INDEX "ledger_entries_user_id_id_idx" ON "ledger_entries"("user_id", "id");

-- CreateIndex
CREATE INDEX "ledger_entries_order_id_idx" ON "ledger_entries"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_idempotency_key_key" ON "ledger_entries"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "idempotency_records_user_id_key_key" ON "idempotency_records"("user_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_request_id_key" ON "audit_records"("request_id");

-- CreateIndex
CREATE INDEX "audit_records_order_id_idx" ON "audit_records"("order_id");

-- CreateIndex
CREATE INDEX "audit_records_actor_user_id_idx" ON "audit_records"("actor_user_id");

-- CreateIndex
CREATE INDEX "audit_records_target_user_id_idx" ON "audit_records"("target_user_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "services" ADD CONSTRAINT "services_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_records" ADD CONSTRAINT "idempotency_records_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------
-- Hand-written below this line: constraints Prisma's schema language cannot express.
-- Prisma's differ ignores CHECK constraints and triggers, so `prisma migrate dev` leaves them be.
-- Rule IDs refer to /work/shared/domain/RULES.md.
-- ---------------------------------------------------------------------------------------------

-- R-BALANCE: the balance never goes below zero. Debits are a single
-- `UPDATE users SET balance = balance + $amount` and this constraint decides under concurrency.
ALTER TABLE "users" ADD CONSTRAINT "users_balance_non_negative" CHECK ("balance" >= 0);
ALTER TABLE "users" ADD CONSTRAINT "users_status_valid" CHECK ("status" IN ('active', 'blocked'));

ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_role_valid" CHECK ("role" IN ('user', 'support', 'admin'));
-- Keys are stored only as sha256 hex digests.
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_key_hash_sha256_hex" CHECK ("key_hash" ~ '^[0-9a-f]{64}$');

-- R-MINMAX inputs: a sane catalogue entry.
ALTER TABLE "services" ADD CONSTRAINT "services_rate_non_negative" CHECK ("rate" >= 0);
ALTER TABLE "services" ADD CONSTRAINT "services_min_max_valid" CHECK ("min" > 0 AND "max" >= "min");
-- R-REFILL-SERVICE: a refill period in days, a lifetime guarantee, or none.
ALTER TABLE "services" ADD CONSTRAINT "services_refill_valid" CHECK (
    ("refill_kind" = 'none' AND "refill_days" IS NULL)
    OR ("refill_kind" = 'days' AND "refill_days" > 0)
    OR ("refill_kind" = 'lifetime' AND "refill_days" IS NULL)
);

ALTER TABLE "orders" ADD CONSTRAINT "orders_quantity_positive" CHECK ("quantity" > 0);
ALTER TABLE "orders" ADD CONSTRAINT "orders_rate_non_negative" CHECK ("rate" >= 0);
ALTER TABLE "orders" ADD CONSTRAINT "orders_charge_non_negative" CHECK ("charge" >= 0);
-- R-PARTIAL / R-CANCEL-FULL: refunds of one order never add up to more than its charge.
ALTER TABLE "orders" ADD CONSTRAINT "orders_refunded_within_charge" CHECK ("refunded" >= 0 AND "refunded" <= "charge");
ALTER TABLE "orders" ADD CONSTRAINT "orders_status_valid" CHECK ("status" IN ('new', 'rejected', 'pending', 'dispatch_uncertain', 'in_progress', 'completed', 'partial', 'canceled'));
-- R-PRICE-SNAPSHOT: the refill terms copied from the service follow the same shape.
ALTER TABLE "orders" ADD CONSTRAINT "orders_refill_valid" CHECK (
    ("refill_kind" = 'none' AND "refill_days" IS NULL)
    OR ("refill_kind" = 'days' AND "refill_days" > 0)
    OR ("refill_kind" = 'lifetime' AND "refill_days" IS NULL)
);
ALTER TABLE "orders" ADD CONSTRAINT "orders_counters_non_negative" CHECK (("start_count" IS NULL OR "start_count" >= 0) AND ("remains" IS NULL OR "remains" >= 0));

-- Ledger: each kind moves money in one direction; order debits and refunds name their order.
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_kind_sign_valid" CHECK (
    ("kind" = 'topup' AND "amount" > 0)
    OR ("kind" = 'order_debit' AND "amount" < 0 AND "order_id" IS NOT NULL)
    OR ("kind" = 'refund' AND "amount" > 0 AND "order_id" IS NOT NULL)
    OR ("kind" = 'withdrawal' AND "amount" < 0)
    OR ("kind" = 'withdrawal_fee' AND "amount" < 0)
    OR ("kind" = 'chargeback' AND "amount" < 0)
    OR ("kind" = 'correction' AND "amount" <> 0)
);
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_balance_after_non_negative" CHECK ("balance_after" >= 0);

-- Ledger entries are never changed or deleted; mistakes get correcting entries.
CREATE FUNCTION "ledger_entries_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries are append-only (% refused); write a correcting entry instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER "ledger_entries_append_only"
    BEFORE UPDATE OR DELETE ON "ledger_entries"
    FOR EACH ROW EXECUTE FUNCTION "ledger_entries_immutable"();
