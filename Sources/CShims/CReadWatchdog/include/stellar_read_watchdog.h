// The worker's read watchdog. libfcgi's reads have no timeout of their own, and a client that
// stops mid-record (only nginx should reach the socket, but anything in its group can) would hold
// the worker for good. A thread of the worker's own looks once a second at the connection the
// worker is reading; one open for more than `limit_seconds` has its reading side shut down, so
// libfcgi's blocked read returns end-of-file, and the cut is recorded for the 408.
//
// Why a thread and not a timer around each read: the timer (setitimer) cost two system calls a
// request, and a poll() before accept so that no worker waited in accept with it running; here a
// request costs a few stores to memory. Why not a signal: a signal interrupts libfcgi's poll() on a
// new connection (it never restarts), which drops the connection.
#ifndef STELLAR_READ_WATCHDOG_H
#define STELLAR_READ_WATCHDOG_H

#include <fcgiapp.h>

// Starts the thread, watching the socket libfcgi reads `request` from (its ipcFd, -1 between
// connections); the request must stay at its address for the life of the process. 0, or an errno.
int stellar_read_watchdog_start(const FCGX_Request *request, int limit_seconds);

// Around the reading of one request (libfcgi's accept and params, then the body): only then is
// the connection watched. Starting clears the last cut.
void stellar_read_watchdog_reading(void);
void stellar_read_watchdog_done(void);

// 1 when the watchdog cut off the connection of the request being (or last) read, else 0.
int stellar_read_watchdog_cut(void);

#endif
