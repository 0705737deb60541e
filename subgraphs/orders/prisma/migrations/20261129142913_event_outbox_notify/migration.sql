-- Wake the relay on commit: NOTIFY is delivered only when the inserting transaction commits
-- (PostgreSQL docs, NOTIFY), and identical notifications in one transaction are folded into one.
-- The payload is the schema name, so one channel serves every service in a database.
CREATE OR REPLACE FUNCTION "event_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('boxoffice_event_outbox', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER "event_outbox_notify"
    AFTER INSERT ON "event_outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "event_outbox_notify"();
