/*
 * c-pg-writes: the benchmark's floor for the PostgreSQL store's writes, through libpq with
 * prepared or single statements, no HTTP, no JSON, committed with the cluster's own
 * synchronous_commit (not changed here; printed).
 *
 *   c-pg-writes creates DATABASE_URL USER SECONDS PROCESSES RECORD_BYTES
 *     (bench/run, beside POST /webhooks on PostgreSQL.) PROCESSES processes, one connection
 *     each, loop for SECONDS a create's writes as one transaction, as the store must make them:
 *     BEGIN; lock the user's row and read its count of webhooks (SELECT webhook_count ... FOR
 *     UPDATE, the row inserted the first time; the schema keeps the count there); insert the
 *     webhook row (a RECORD_BYTES record); COMMIT.
 *     Prints "<creates> <seconds> <synchronous_commit>" (all processes together).
 *
 *   c-pg-writes fanout DATABASE_URL USER RECORD_BYTES
 *     (bench/delivery, beside POST /events queueing a fan-out on PostgreSQL.) One delivery to
 *     each of USER's webhooks, in one transaction: BEGIN; lock the user's row; add 1 to every
 *     webhook's delivery_count (one UPDATE over unnest, RETURNING the new counts); insert the
 *     deliveries rows (RECORD_BYTES records) and the outbox rows (one INSERT each over unnest of
 *     text arrays); NOTIFY the helpers' channel; COMMIT. Prints "<deliveries> <seconds>
 *     <synchronous_commit>", the seconds from BEGIN to COMMIT's return.
 *
 * Exit 1 on any failed statement. Ids are made here (UUID-shaped), as the service makes its own.
 * Build: cc -O2 -I/usr/include/postgresql -o c-pg-writes c-pg-writes.c -lpq
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static PGconn *connect_to(const char *url)
{
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "c-pg-writes: connect: %s", PQerrorMessage(db));
        exit(1);
    }
    return db;
}

/* Runs a result's check: exits 1 with the server's message unless its status is `want`. */
static PGresult *expect(PGconn *db, PGresult *result, ExecStatusType want, const char *what)
{
    if (PQresultStatus(result) != want) {
        fprintf(stderr, "c-pg-writes: %s: %s", what, PQerrorMessage(db));
        exit(1);
    }
    return result;
}

static void run(PGconn *db, const char *sql)
{
    PQclear(expect(db, PQexec(db, sql), PGRES_COMMAND_OK, sql));
}

static void prepare(PGconn *db, const char *name, const char *sql)
{
    PQclear(expect(db, PQprepare(db, name, sql, 0, NULL), PGRES_COMMAND_OK, sql));
}

static PGresult *prepared(PGconn *db, const char *name, int n, const char *const *params, ExecStatusType want)
{
    return expect(db, PQexecPrepared(db, name, n, params, NULL, NULL, 0), want, name);
}

static char setting[64];

static void read_synchronous_commit(PGconn *db)
{
    PGresult *r = expect(db, PQexec(db, "SHOW synchronous_commit"), PGRES_TUPLES_OK, "SHOW synchronous_commit");
    snprintf(setting, sizeof setting, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* A UUID-shaped id, unique per (a, b). */
static void make_id(char *out, unsigned a, unsigned long b)
{
    snprintf(out, 37, "%08x-%04lx-4%03lx-8%03lx-%012lx", a, (b >> 40) & 0xffff, (b >> 28) & 0xfff,
             (b >> 16) & 0xfff, b & 0xffffffffffffUL);
}

/* A JSON record of exactly `bytes` bytes (at least the id and the padding's quotes). */
static char *make_record(const char *id, size_t bytes)
{
    size_t head = strlen("{\"id\":\"\",\"pad\":\"\"}") + strlen(id);
    size_t pad = bytes > head ? bytes - head : 0;
    char *record = malloc(head + pad + 1);
    if (record == NULL)
        exit(1);
    int n = sprintf(record, "{\"id\":\"%s\",\"pad\":\"", id);
    memset(record + n, 'x', pad);
    strcpy(record + n + pad, "\"}");
    return record;
}

/* Locks the user's row for the rest of the transaction, making it the first time; reads its
 * count of webhooks (which the schema's trigger keeps). */
static void lock_user(PGconn *db, const char *user)
{
    const char *params[1] = {user};
    PGresult *r = prepared(db, "lock", 1, params, PGRES_TUPLES_OK);
    int found = PQntuples(r);
    PQclear(r);
    if (!found) {
        PQclear(prepared(db, "add_user", 1, params, PGRES_COMMAND_OK));
        PQclear(prepared(db, "lock", 1, params, PGRES_TUPLES_OK));
    }
}

static void prepare_lock(PGconn *db)
{
    prepare(db, "lock", "SELECT webhook_count FROM users WHERE id = $1 FOR UPDATE");
    prepare(db, "add_user", "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING");
}

/* --- creates ------------------------------------------------------------------------------- */

static long create_loop(const char *url, const char *user, double seconds, size_t bytes, unsigned worker)
{
    PGconn *db = connect_to(url);
    prepare_lock(db);
    prepare(db, "insert", "INSERT INTO webhooks (id, user_id, created_at, record) VALUES ($1, $2, $3, $4)");
    char id[37], created[40];
    long n = 0;
    unsigned tag = (unsigned)getpid() ^ (worker << 24);
    double end = now() + seconds;
    while (now() < end) {
        make_id(id, tag, (unsigned long)n);
        time_t t = time(NULL);
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&t));
        char *record = make_record(id, bytes);
        const char *insert_params[4] = {id, user, created, record};
        run(db, "BEGIN");
        lock_user(db, user);
        PQclear(prepared(db, "insert", 4, insert_params, PGRES_COMMAND_OK));
        run(db, "COMMIT");
        free(record);
        n++;
    }
    PQfinish(db);
    return n;
}

static int creates(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: c-pg-writes creates DATABASE_URL USER SECONDS PROCESSES RECORD_BYTES\n");
        return 2;
    }
    const char *url = argv[2], *user = argv[3];
    double seconds = atof(argv[4]);
    int processes = atoi(argv[5]);
    size_t bytes = (size_t)atol(argv[6]);
    if (seconds <= 0 || processes < 1 || processes > 256 || bytes < 1) {
        fprintf(stderr, "c-pg-writes: bad arguments\n");
        return 2;
    }
    PGconn *db = connect_to(url);
    read_synchronous_commit(db);
    PQfinish(db);
    int fds[256][2];
    double started = now();
    for (int i = 0; i < processes; i++) {
        if (pipe(fds[i]) != 0)
            return 1;
        if (fork() == 0) {
            long n = create_loop(url, user, seconds, bytes, (unsigned)i);
            dprintf(fds[i][1], "%ld\n", n);
            _exit(0);
        }
        close(fds[i][1]);
    }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < processes; i++) {
        char buf[64] = {0};
        if (read(fds[i][0], buf, sizeof buf - 1) <= 0)
            failed = 1;
        total += atol(buf);
    }
    int status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    printf("%ld %.3f %s\n", total, now() - started, setting);
    return failed;
}

/* --- a fan-out ------------------------------------------------------------------------------ */

/* A growing string, for the array literals. */
struct text {
    char *bytes;
    size_t length, size;
};

static void append(struct text *t, const char *s, size_t n)
{
    if (t->length + n + 1 > t->size) {
        t->size = (t->length + n + 1) * 2;
        t->bytes = realloc(t->bytes, t->size);
        if (t->bytes == NULL)
            exit(1);
    }
    memcpy(t->bytes + t->length, s, n);
    t->length += n;
    t->bytes[t->length] = 0;
}

/* Appends one element to a text array literal `{"a","b"}` (the ids and records here hold no
 * quote or backslash but the records' own quotes, which are escaped). */
static void element(struct text *t, const char *s)
{
    append(t, t->length == 0 ? "{\"" : ",\"", 2);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            append(t, "\\", 1);
        append(t, p, 1);
    }
    append(t, "\"", 1);
}

static void close_array(struct text *t)
{
    if (t->length == 0)
        append(t, "{", 1);
    append(t, "}", 1);
}

static int fanout(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: c-pg-writes fanout DATABASE_URL USER RECORD_BYTES\n");
        return 2;
    }
    const char *url = argv[2], *user = argv[3];
    size_t bytes = (size_t)atol(argv[4]);
    PGconn *db = connect_to(url);
    read_synchronous_commit(db);
    prepare_lock(db);
    prepare(db, "count",
            "UPDATE webhooks w SET delivery_count = w.delivery_count + 1 FROM unnest($1::text[]) AS u (id) "
            "WHERE w.id = u.id AND w.user_id = $2 RETURNING w.id, w.delivery_count");
    prepare(db, "deliveries",
            "INSERT INTO deliveries (id, webhook_id, position, created_at, pending, record) "
            "SELECT id, webhook_id, position, created_at, true, record FROM unnest($1::text[], $2::text[], "
            "$3::bigint[], $4::timestamptz[], $5::text[]) AS r (id, webhook_id, position, created_at, record)");
    prepare(db, "outbox",
            "INSERT INTO outbox (name, delivery_id, webhook_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])");

    /* The webhooks a fan-out reaches: read before the clock starts, as the service has them. */
    const char *user_param[1] = {user};
    PQclear(expect(db, PQprepare(db, "webhooks", "SELECT id FROM webhooks WHERE user_id = $1", 1, NULL),
                   PGRES_COMMAND_OK, "prepare webhooks"));
    PGresult *listed = prepared(db, "webhooks", 1, user_param, PGRES_TUPLES_OK);
    int n = PQntuples(listed);
    if (n == 0) {
        fprintf(stderr, "c-pg-writes: user %s has no webhooks\n", user);
        return 1;
    }
    struct text webhook_ids = {0};
    for (int i = 0; i < n; i++)
        element(&webhook_ids, PQgetvalue(listed, i, 0));
    close_array(&webhook_ids);
    PQclear(listed);

    double started = now();
    run(db, "BEGIN");
    lock_user(db, user);
    const char *count_params[2] = {webhook_ids.bytes, user};
    PGresult *counted = prepared(db, "count", 2, count_params, PGRES_TUPLES_OK);
    struct text ids = {0}, webhooks = {0}, positions = {0}, created = {0}, records = {0}, names = {0};
    char id[37], name[96], stamp[40];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&t));
    unsigned tag = (unsigned)getpid();
    for (int i = 0; i < PQntuples(counted); i++) {
        make_id(id, tag, (unsigned long)i);
        /* An outbox name as the store makes one: when queued, the sequence, the delivery id. */
        snprintf(name, sizeof name, "%lld-%06d-%s", (long long)t * 1000000, i, id);
        char *record = make_record(id, bytes);
        element(&ids, id);
        element(&webhooks, PQgetvalue(counted, i, 0));
        element(&positions, PQgetvalue(counted, i, 1));
        element(&created, stamp);
        element(&records, record);
        element(&names, name);
        free(record);
    }
    int rows = PQntuples(counted);
    PQclear(counted);
    struct text *arrays[] = {&ids, &webhooks, &positions, &created, &records, &names};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        close_array(arrays[i]);
    const char *delivery_params[5] = {ids.bytes, webhooks.bytes, positions.bytes, created.bytes, records.bytes};
    PQclear(prepared(db, "deliveries", 5, delivery_params, PGRES_COMMAND_OK));
    const char *outbox_params[3] = {names.bytes, ids.bytes, webhooks.bytes};
    PQclear(prepared(db, "outbox", 3, outbox_params, PGRES_COMMAND_OK));
    run(db, "NOTIFY stellar_webhooks_outbox");
    run(db, "COMMIT");
    double seconds = now() - started;
    PQfinish(db);
    printf("%d %.4f %s\n", rows, seconds, setting);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "creates") == 0)
        return creates(argc, argv);
    if (argc > 1 && strcmp(argv[1], "fanout") == 0)
        return fanout(argc, argv);
    fprintf(stderr, "usage: c-pg-writes creates DATABASE_URL USER SECONDS PROCESSES RECORD_BYTES\n"
                    "       c-pg-writes fanout DATABASE_URL USER RECORD_BYTES\n");
    return 2;
}
