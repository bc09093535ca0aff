-- crud-api's PostgreSQL schema, applied by the owner login (DATABASE_OWNER_URL) at start in
-- dev and test, or with `crud-api --migrate`. Idempotent. The service's two logins are
-- granted what they need by the service, after this file: the read-write login SELECT,
-- INSERT, UPDATE and DELETE on `documents`, the read-only login SELECT.
--
-- Every document's index row, owned by one user: row-level security (forced, so the owner
-- obeys it too) lets a session see and write only the rows of the user it acts for, the
-- user palisade-sql's `as_user` sets for one transaction.
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    project_id TEXT,
    client_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS documents_user_project ON documents (user_id, project_id);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS documents_owner ON documents;
CREATE POLICY documents_owner ON documents
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''))
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));
REVOKE ALL ON documents FROM PUBLIC;
