#include "stellar_pq.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <stdio.h>

// The functions the store uses, filled in by stellar_pq_load.
static struct {
    PGconn *(*connectdb)(const char *);
    ConnStatusType (*status)(const PGconn *);
    char *(*error_message)(const PGconn *);
    void (*finish)(PGconn *);
    int (*socket)(const PGconn *);
    PGresult *(*exec)(PGconn *, const char *);
    PGresult *(*prepare)(PGconn *, const char *, const char *, int, const Oid *);
    PGresult *(*exec_prepared)(PGconn *, const char *, int, const char *const *, const int *, const int *, int);
    ExecStatusType (*result_status)(const PGresult *);
    char *(*result_error_message)(const PGresult *);
    char *(*result_error_field)(const PGresult *, int);
    int (*ntuples)(const PGresult *);
    int (*nfields)(const PGresult *);
    char *(*getvalue)(const PGresult *, int, int);
    int (*getlength)(const PGresult *, int, int);
    int (*getisnull)(const PGresult *, int, int);
    char *(*cmd_tuples)(PGresult *);
    void (*clear)(PGresult *);
    int (*consume_input)(PGconn *);
    PGnotify *(*notifies)(PGconn *);
    void (*freemem)(void *);
} pq;

int stellar_pq_load(char *error, unsigned long errorSize) {
    if (pq.connectdb) return 0;
    void *library = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, errorSize, "%s (install libpq5)", dlerror());
        return -1;
    }
#define LOAD(field, symbol)                                                 \
    if (!(*(void **)&pq.field = dlsym(library, symbol))) {                   \
        snprintf(error, errorSize, "libpq.so.5 has no %s", symbol);          \
        return -1;                                                          \
    }
    LOAD(status, "PQstatus")
    LOAD(error_message, "PQerrorMessage")
    LOAD(finish, "PQfinish")
    LOAD(socket, "PQsocket")
    LOAD(exec, "PQexec")
    LOAD(prepare, "PQprepare")
    LOAD(exec_prepared, "PQexecPrepared")
    LOAD(result_status, "PQresultStatus")
    LOAD(result_error_message, "PQresultErrorMessage")
    LOAD(result_error_field, "PQresultErrorField")
    LOAD(ntuples, "PQntuples")
    LOAD(nfields, "PQnfields")
    LOAD(getvalue, "PQgetvalue")
    LOAD(getlength, "PQgetlength")
    LOAD(getisnull, "PQgetisnull")
    LOAD(cmd_tuples, "PQcmdTuples")
    LOAD(clear, "PQclear")
    LOAD(consume_input, "PQconsumeInput")
    LOAD(notifies, "PQnotifies")
    LOAD(freemem, "PQfreemem")
    LOAD(connectdb, "PQconnectdb")  // last: it marks the table complete
#undef LOAD
    return 0;
}

PGconn *stellar_pq_connectdb(const char *conninfo) { return pq.connectdb(conninfo); }
int stellar_pq_connection_ok(const PGconn *conn) { return conn && pq.status(conn) == CONNECTION_OK; }
const char *stellar_pq_error_message(const PGconn *conn) { return pq.error_message(conn); }
void stellar_pq_finish(PGconn *conn) { pq.finish(conn); }
int stellar_pq_socket(const PGconn *conn) { return pq.socket(conn); }

PGresult *stellar_pq_prepare(PGconn *conn, const char *name, const char *command, int count) {
    return pq.prepare(conn, name, command, count, NULL);
}
PGresult *stellar_pq_exec_prepared(PGconn *conn, const char *name, int count, const char *const *values) {
    return pq.exec_prepared(conn, name, count, values, NULL, NULL, 0);
}
PGresult *stellar_pq_exec_script(PGconn *conn, const char *script) { return pq.exec(conn, script); }
int stellar_pq_result_ok(const PGresult *result) {
    ExecStatusType status = result ? pq.result_status(result) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}
const char *stellar_pq_result_error_message(const PGresult *result) { return pq.result_error_message(result); }
const char *stellar_pq_result_sqlstate(const PGresult *result) {
    return result ? pq.result_error_field(result, PG_DIAG_SQLSTATE) : NULL;
}
int stellar_pq_ntuples(const PGresult *result) { return pq.ntuples(result); }
int stellar_pq_nfields(const PGresult *result) { return pq.nfields(result); }
const char *stellar_pq_getvalue(const PGresult *result, int row, int column) { return pq.getvalue(result, row, column); }
int stellar_pq_getlength(const PGresult *result, int row, int column) { return pq.getlength(result, row, column); }
int stellar_pq_getisnull(const PGresult *result, int row, int column) { return pq.getisnull(result, row, column); }
const char *stellar_pq_cmd_tuples(PGresult *result) { return pq.cmd_tuples(result); }
void stellar_pq_clear(PGresult *result) { pq.clear(result); }

int stellar_pq_drain_notifications(PGconn *conn) {
    if (!pq.consume_input(conn)) return -1;
    int count = 0;
    PGnotify *notification;
    while ((notification = pq.notifies(conn)) != NULL) {
        pq.freemem(notification);
        count++;
    }
    return count;
}
