-- Edgeward schema 20 (PostgreSQL): a change to api_clients also notifies `edgeward_api_clients`,
-- in the same transaction as the version bump, so every server's LISTEN connection learns of it
-- at the commit. A server keeps the version it last read for as long as its LISTEN connection is
-- up and no notification has come, instead of reading it on every signed request; while that
-- connection is down it reads the version on every request, as before.

CREATE OR REPLACE FUNCTION edgeward_bump_api_clients_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_clients_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('edgeward_api_clients', '');
    RETURN NULL;
END;
$$;
