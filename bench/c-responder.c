/*
 * c-responder: the benchmark's reference for "what libfcgi alone costs".
 *
 * A bare libfcgi responder: an FCGX_Accept_r loop that answers every request with
 * `Status: 200 OK`, `Content-Type: application/json; charset=utf-8` and the body `[]`.
 * No routing, no parsing, no store: whatever the service costs beyond this is its own.
 *
 * Usage: c-responder [SOCKET_PATH [PROCESSES]]
 *   no argument      accept on fd 0 (as started by spawn-fcgi or systemd)
 *   SOCKET_PATH      listen on this unix socket (removed first if it exists)
 *   PROCESSES        accept loops, one process each, like the service's workers (default 1)
 * SIGTERM to the parent stops every process. Build: cc -O2 -o c-responder c-responder.c -lfcgi
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "accept-loops.h"

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "\r\n"
    "[]";

/* One accept loop; `unused`: run_accept_loops' context, none here. */
static int serve(const void *unused, int listen_fd)
{
    (void)unused;
    FCGX_Request request;
    if (FCGX_InitRequest(&request, listen_fd, 0) != 0) {
        fprintf(stderr, "c-responder: FCGX_InitRequest failed\n");
        return 1;
    }
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(answer, (int)sizeof(answer) - 1, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int listen_fd = 0;
    int processes = 1;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "c-responder: FCGX_Init failed\n");
        return 1;
    }
    if (argc > 1) {
        unlink(argv[1]);
        listen_fd = FCGX_OpenSocket(argv[1], 1024);
        if (listen_fd < 0) {
            fprintf(stderr, "c-responder: cannot listen on %s\n", argv[1]);
            return 1;
        }
    }
    if (argc > 2) {
        processes = atoi(argv[2]);
        if (processes < 1 || processes > 1024) {
            fprintf(stderr, "c-responder: bad process count %s\n", argv[2]);
            return 2;
        }
    }
    if (processes == 1)
        return serve(NULL, listen_fd);

    return run_accept_loops("c-responder", processes, serve, NULL, listen_fd);
}
