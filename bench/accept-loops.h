/*
 * accept-loops.h: the C references' workers (c-responder.c, c-pg-responder.c). PROCESSES forked
 * accept loops on one listening socket, like the service's workers; each dies with the parent,
 * SIGTERM or SIGINT to the parent stops them all, and the whole stops if any loop ends.
 */
#ifndef ACCEPT_LOOPS_H
#define ACCEPT_LOOPS_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Runs serve(context, listen_fd) in `processes` children; returns 1 once one of them ended and
 * the others were stopped. `name` prefixes what it reports. */
static int run_accept_loops(const char *name, int processes, int (*serve)(const void *, int), const void *context,
                            int listen_fd)
{
    children = calloc((size_t)processes, sizeof *children);
    if (children == NULL)
        return 1;
    pid_t parent = getpid();
    for (int i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "%s: fork: %s\n", name, strerror(errno));
            stop_children(SIGTERM);
        }
        if (pid == 0) {
            /* Die with the parent, whatever kills it. */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
            _exit(serve(context, listen_fd));
        }
        children[i] = pid;
        nchildren = i + 1;
    }
    signal(SIGTERM, stop_children);
    signal(SIGINT, stop_children);

    pid_t ended;
    while ((ended = wait(NULL)) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < nchildren; i++)
        if (children[i] == ended)
            children[i] = 0;
    fprintf(stderr, "%s: an accept loop ended, stopping\n", name);
    stop_children(SIGTERM);
    return 1;
}

#endif
