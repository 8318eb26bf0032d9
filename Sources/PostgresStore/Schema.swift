/// The database schema, as numbered migrations applied in order (docs/architecture.md: "Storage").
/// A migration is never edited once released: a change is a new one at the end.
///
/// Records are kept as the same JSON documents the flat-file store writes (`record`), beside the
/// columns that are searched, joined or locked on; `import` copies them across unchanged.
enum Schema {
    static let migrations: [String] = [
        // 1: everything the flat-file store keeps.
        """
        CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE api_keys (id text PRIMARY KEY, record text NOT NULL);
        CREATE TABLE servers (id text PRIMARY KEY, owner_id text NOT NULL, record text NOT NULL);
        -- One row per user who has had a webhook: creates lock it, so the per-user limit holds
        -- across hosts.
        CREATE TABLE users (id text PRIMARY KEY);
        CREATE TABLE webhooks (
            id text PRIMARY KEY,
            user_id text NOT NULL REFERENCES users (id),
            created_at text NOT NULL,
            record text NOT NULL,
            -- Deliveries are numbered 1, 2, ... per webhook, without gaps (pruning renumbers), so
            -- a page is a range of positions whatever its offset: O(limit).
            delivery_count bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX webhooks_by_user ON webhooks (user_id, created_at DESC, id DESC);
        CREATE TABLE deliveries (
            id text PRIMARY KEY,
            webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
            position bigint NOT NULL,
            created_at timestamptz NOT NULL,
            pending boolean NOT NULL,
            record text NOT NULL,
            UNIQUE (webhook_id, position)
        );
        -- What the helpers send: an entry per pending delivery, claimed by one helper at a time
        -- for a lease (leased_by, lease_until) to send to the Discord webhook send_key names.
        CREATE TABLE outbox (
            name text PRIMARY KEY,
            delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
            webhook_id text NOT NULL,
            send_key text,
            leased_by text,
            lease_until timestamptz
        );
        CREATE INDEX outbox_by_send_key ON outbox (send_key) WHERE lease_until IS NOT NULL;
        CREATE TABLE outbox_rejected (name text PRIMARY KEY, delivery_id text NOT NULL, reason text NOT NULL);
        CREATE TABLE idempotent_answers (name text PRIMARY KEY, created_at timestamptz NOT NULL, record text NOT NULL);
        -- Rate-limit waits Discord asked for, per Discord webhook, kept by every host's helper.
        CREATE TABLE send_waits (send_key text PRIMARY KEY, until timestamptz NOT NULL);
        """,
        // 2: a create in one statement, one round trip instead of six (BEGIN, the user's row made
        // and locked, the count, the insert, COMMIT), which holds the user's lock for less: the
        // count is kept on the user's row by a trigger (every insert and delete, whatever makes
        // it), not counted under the lock. In READ COMMITTED each statement of a volatile function
        // reads a fresh snapshot, so the count, read after the lock, includes every create
        // committed before it on any host. And, kept by the database from the records, the
        // columns a GET /webhooks reads with its key (`PostgresStore.keyWithListFingerprint`): a
        // key's user, a webhook's server.
        """
        ALTER TABLE api_keys ADD COLUMN subject text GENERATED ALWAYS AS ((record::jsonb)->>'subject') STORED;
        ALTER TABLE webhooks ADD COLUMN server_id text GENERATED ALWAYS AS ((record::jsonb)->>'serverId') STORED;
        ALTER TABLE users ADD COLUMN webhook_count bigint NOT NULL DEFAULT 0;
        UPDATE users u SET webhook_count = (SELECT count(*) FROM webhooks w WHERE w.user_id = u.id);
        CREATE FUNCTION count_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                UPDATE users SET webhook_count = webhook_count + 1 WHERE id = NEW.user_id;
            ELSE
                UPDATE users SET webhook_count = webhook_count - 1 WHERE id = OLD.user_id;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER webhooks_counted AFTER INSERT OR DELETE ON webhooks
            FOR EACH ROW EXECUTE FUNCTION count_webhooks();
        CREATE FUNCTION create_webhook(webhook text, owner text, created text, body text, most bigint)
        RETURNS boolean LANGUAGE plpgsql AS $$
        DECLARE
            counted bigint;
        BEGIN
            SELECT webhook_count INTO counted FROM users WHERE id = owner FOR UPDATE;
            IF NOT FOUND THEN
                INSERT INTO users (id) VALUES (owner) ON CONFLICT (id) DO NOTHING;
                SELECT webhook_count INTO counted FROM users WHERE id = owner FOR UPDATE;
            END IF;
            IF counted >= most THEN
                RETURN false;
            END IF;
            INSERT INTO webhooks (id, user_id, created_at, record) VALUES (webhook, owner, created, body);
            RETURN true;
        END $$;
        """,
    ]

    /// The advisory lock that serializes migrations: several hosts may start at once.
    static let migrationLock = "7315202611240001"
}
