-- The support console's sessions (issue 13): a staff member signed in with a support or admin key.
-- Kept in PostgreSQL, not in the API process, so a restart or a second API container keeps them.
-- The browser holds only the random token (an HttpOnly cookie); the row is keyed by its sha256.

-- CreateTable
CREATE TABLE "console_sessions" (
    "id" TEXT NOT NULL,
    "api_key_id" INTEGER NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "console_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "console_sessions_api_key_id_idx" ON "console_sessions"("api_key_id");

-- A revoked or deleted key ends its sessions: the key is checked on every request; deleting it deletes them.
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
