/*
 * c-pg-responder: the benchmark's floor for GET /webhooks on the PostgreSQL store (bench/run,
 * beside the service's PostgreSQL row, behind the same nginx).
 *
 * A libfcgi responder doing per request what the service's GET /webhooks does against the same
 * database, as a careful C programmer would: the key id from `Authorization: Bearer
 * swh_<id>_<secret>`, the key's row (`SELECT record FROM api_keys WHERE id = $1`), the user id
 * from that record's "subject" (no HMAC check: that is the service's own cost), then the user's
 * webhooks (`SELECT record, delivery_count FROM webhooks WHERE user_id = $1 ORDER BY ...`, the
 * store's statement), both prepared once per process. It answers 200 with the records joined
 * into a JSON array, each with its `"_count":{"deliveries":N}` as the service renders it; 401 for
 * a missing, unknown or revoked key; 500 when a statement fails (the error on stderr).
 *
 * Usage: c-pg-responder DATABASE_URL SOCKET_PATH [PROCESSES]
 *   PROCESSES   accept loops, one process and one connection each, like the service's workers
 * SIGTERM to the parent stops every process.
 * Build: cc -O2 -I/usr/include/postgresql -o c-pg-responder c-pg-responder.c -lfcgi -lpq
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "accept-loops.h"

static const char key_sql[] = "SELECT record FROM api_keys WHERE id = $1";
/* Sources/PostgresStore/PostgresStore+Webhooks.swift, webhooksWithDeliveryCounts. */
static const char list_sql[] =
    "SELECT record, delivery_count FROM webhooks WHERE user_id = $1 "
    "ORDER BY created_at COLLATE \"C\" DESC, id COLLATE \"C\" DESC";

static const char ok_head[] = "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\r\n";
static const char unauthorized[] =
    "Status: 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
    "{\"error\":\"Unauthorized\"}";
static const char failed[] =
    "Status: 500 Internal Server Error\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
    "{\"error\":\"Internal error\"}";

/* The 16 hex digits of `Bearer swh_<id>_<secret>` into id (17 bytes); 0 when not of that form. */
static int key_id(const char *header, char *id)
{
    if (header == NULL || strncasecmp(header, "bearer ", 7) != 0)
        return 0;
    header += 7;
    while (*header == ' ')
        header++;
    if (strncmp(header, "swh_", 4) != 0 || strlen(header) < 4 + 16 + 1 || header[20] != '_')
        return 0;
    memcpy(id, header + 4, 16);
    id[16] = 0;
    return 1;
}

/* The string value of "name" in a flat JSON object (the store's records are indented: `"name" :
 * "value"`), into out (size bytes); 0 when absent, not a plain string or too long. The fields
 * read here hold no escapes. */
static int json_string(const char *json, const char *name, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", name);
    const char *start = strstr(json, pattern);
    if (start == NULL)
        return 0;
    start += strlen(pattern);
    while (*start == ' ')
        start++;
    if (*start++ != ':')
        return 0;
    while (*start == ' ')
        start++;
    if (*start++ != '"')
        return 0;
    const char *end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size || memchr(start, '\\', (size_t)(end - start)))
        return 0;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = 0;
    return 1;
}

/* The JSON in `json` without the whitespace between tokens, into out; returns its length (cut at
 * size). */
static int compact(const char *json, int length, char *out, size_t size)
{
    size_t n = 0;
    int in_string = 0;
    for (int i = 0; i < length && n < size; i++) {
        char c = json[i];
        if (in_string) {
            if (c == '\\' && i + 1 < length && n + 1 < size) {
                out[n++] = c;
                c = json[++i];
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_string = 1;
        }
        out[n++] = c;
    }
    return (int)n;
}

static void report(PGconn *db, const char *what)
{
    fprintf(stderr, "c-pg-responder: %s: %s", what, PQerrorMessage(db));
}

/* One request: 200 with the list, 401, or 500. */
static void answer(PGconn *db, FCGX_Request *request)
{
    static char buffer[65536];
    char id[17], user[256];
    const char *params[1];
    if (!key_id(FCGX_GetParam("HTTP_AUTHORIZATION", request->envp), id)) {
        FCGX_PutS(unauthorized, request->out);
        return;
    }
    params[0] = id;
    PGresult *key = PQexecPrepared(db, "key", 1, params, NULL, NULL, 0);
    if (PQresultStatus(key) != PGRES_TUPLES_OK) {
        report(db, "the key lookup");
        PQclear(key);
        FCGX_PutS(failed, request->out);
        return;
    }
    const char *record = PQntuples(key) == 1 ? PQgetvalue(key, 0, 0) : "";
    char kind[16], revoked[64];
    int user_key = json_string(record, "kind", kind, sizeof kind) && strcmp(kind, "user") == 0 &&
                   !json_string(record, "revokedAt", revoked, sizeof revoked) &&
                   json_string(record, "subject", user, sizeof user);
    PQclear(key);
    if (!user_key) {
        FCGX_PutS(unauthorized, request->out);
        return;
    }
    params[0] = user;
    PGresult *list = PQexecPrepared(db, "list", 1, params, NULL, NULL, 0);
    if (PQresultStatus(list) != PGRES_TUPLES_OK) {
        report(db, "the list");
        PQclear(list);
        FCGX_PutS(failed, request->out);
        return;
    }
    FCGX_PutS(ok_head, request->out);
    FCGX_PutChar('[', request->out);
    for (int row = 0; row < PQntuples(list); row++) {
        /* The record compacted (as the service renders it) without its closing brace, then the
         * count. */
        int length = compact(PQgetvalue(list, row, 0), PQgetlength(list, row, 0), buffer, sizeof buffer);
        if (row > 0)
            FCGX_PutChar(',', request->out);
        FCGX_PutStr(buffer, length > 0 ? length - 1 : 0, request->out);
        FCGX_FPrintF(request->out, ",\"_count\":{\"deliveries\":%s}}", PQgetvalue(list, row, 1));
    }
    FCGX_PutChar(']', request->out);
    PQclear(list);
}

/* One accept loop on its own connection to the database at `url`. */
static int serve(const void *url, int listen_fd)
{
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK) {
        report(db, "connect");
        return 1;
    }
    PGresult *prepared[2] = {PQprepare(db, "key", key_sql, 1, NULL), PQprepare(db, "list", list_sql, 1, NULL)};
    for (int i = 0; i < 2; i++) {
        if (PQresultStatus(prepared[i]) != PGRES_COMMAND_OK) {
            report(db, "prepare");
            return 1;
        }
        PQclear(prepared[i]);
    }
    FCGX_Request request;
    if (FCGX_InitRequest(&request, listen_fd, 0) != 0) {
        fprintf(stderr, "c-pg-responder: FCGX_InitRequest failed\n");
        return 1;
    }
    while (FCGX_Accept_r(&request) >= 0) {
        answer(db, &request);
        FCGX_Finish_r(&request);
    }
    PQfinish(db);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: c-pg-responder DATABASE_URL SOCKET_PATH [PROCESSES]\n");
        return 2;
    }
    int processes = argc > 3 ? atoi(argv[3]) : 1;
    if (processes < 1 || processes > 1024) {
        fprintf(stderr, "c-pg-responder: bad process count %s\n", argv[3]);
        return 2;
    }
    if (FCGX_Init() != 0) {
        fprintf(stderr, "c-pg-responder: FCGX_Init failed\n");
        return 1;
    }
    unlink(argv[2]);
    int listen_fd = FCGX_OpenSocket(argv[2], 1024);
    if (listen_fd < 0) {
        fprintf(stderr, "c-pg-responder: cannot listen on %s\n", argv[2]);
        return 1;
    }

    return run_accept_loops("c-pg-responder", processes, serve, argv[1], listen_fd);
}
