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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "\r\n"
    "[]";

static int serve(int listen_fd)
{
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

static pid_t *children;
static int nchildren;

/* Stop every accept loop, reap it, then die of the same signal. */
static void stop_children(int sig)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0)
            kill(children[i], SIGTERM);
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0)
            while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
                ;
    signal(sig, SIG_DFL);
    raise(sig);
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
        return serve(listen_fd);

    children = calloc((size_t)processes, sizeof *children);
    if (children == NULL)
        return 1;
    pid_t parent = getpid();
    for (int i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("c-responder: fork");
            stop_children(SIGTERM);
        }
        if (pid == 0) {
            /* Die with the parent, whatever kills it. */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
            _exit(serve(listen_fd));
        }
        children[i] = pid;
        nchildren = i + 1;
    }
    signal(SIGTERM, stop_children);
    signal(SIGINT, stop_children);

    /* Stop as a whole if any accept loop ends. */
    pid_t ended;
    while ((ended = wait(NULL)) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < nchildren; i++)
        if (children[i] == ended)
            children[i] = 0;
    fprintf(stderr, "c-responder: an accept loop ended, stopping\n");
    stop_children(SIGTERM);
    return 1;
}
