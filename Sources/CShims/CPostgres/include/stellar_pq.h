// libpq for the PostgreSQL store, loaded with dlopen when a process opens a database: libpq and
// what it pulls in (Kerberos, LDAP, ...) then cost nothing in a service that keeps its data in
// flat files, the default. Every call goes through these wrappers. libpq's own header is read
// only by the C file (Debian: libpq-dev); Swift sees the opaque types and plain ints below.
#ifndef STELLAR_PQ_H
#define STELLAR_PQ_H

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

// Loads libpq.so.5 and its functions once; 0 on success, else -1 with the reason in `error`.
int stellar_pq_load(char *error, unsigned long errorSize);

PGconn *stellar_pq_connectdb(const char *conninfo);
// 1 when the connection is up (CONNECTION_OK), else 0.
int stellar_pq_connection_ok(const PGconn *conn);
const char *stellar_pq_error_message(const PGconn *conn);
void stellar_pq_finish(PGconn *conn);
int stellar_pq_socket(const PGconn *conn);

// Prepares `command` as statement `name` on this connection (the server parses and plans it once);
// stellar_pq_exec_prepared runs it by name. Text parameters and text results, the only kind the
// store uses.
PGresult *stellar_pq_prepare(PGconn *conn, const char *name, const char *command, int count);
PGresult *stellar_pq_exec_prepared(PGconn *conn, const char *name, int count, const char *const *values);
// Several statements at once, without parameters (a migration).
PGresult *stellar_pq_exec_script(PGconn *conn, const char *script);
// 1: a command or query that succeeded; 0: an error (see the message and SQLSTATE).
int stellar_pq_result_ok(const PGresult *result);
const char *stellar_pq_result_error_message(const PGresult *result);
// The five-character SQLSTATE, or NULL.
const char *stellar_pq_result_sqlstate(const PGresult *result);
int stellar_pq_ntuples(const PGresult *result);
int stellar_pq_nfields(const PGresult *result);
const char *stellar_pq_getvalue(const PGresult *result, int row, int column);
int stellar_pq_getlength(const PGresult *result, int row, int column);
int stellar_pq_getisnull(const PGresult *result, int row, int column);
const char *stellar_pq_cmd_tuples(PGresult *result);
void stellar_pq_clear(PGresult *result);

// LISTEN/NOTIFY: reads what arrived on the socket and drops the notifications; returns how many
// there were, or -1 when the connection failed.
int stellar_pq_drain_notifications(PGconn *conn);

#endif
