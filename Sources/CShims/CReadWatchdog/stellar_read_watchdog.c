// The worker's read watchdog (include/stellar_read_watchdog.h says what and why).
#include "stellar_read_watchdog.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static const int *watched;  // the request's ipcFd
static int limit;
static int reading;        // written by the worker, read by the thread (atomics)
static unsigned requests;  // bumped at each reading: the same socket number may be a new request
static int cut;

void stellar_read_watchdog_reading(void) {
    __atomic_store_n(&cut, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&reading, 1, __ATOMIC_RELEASE);
}

void stellar_read_watchdog_done(void) { __atomic_store_n(&reading, 0, __ATOMIC_RELEASE); }

int stellar_read_watchdog_cut(void) { return __atomic_load_n(&cut, __ATOMIC_ACQUIRE); }

static void *watch(void *unused) {
    (void)unused;
    // What was open at the last look: a new request or a new socket (libfcgi accepts again after
    // a connection that broke off before its params) starts the count again.
    unsigned seen_request = 0;
    ino_t seen_socket = 0;
    int seconds = 0;
    const struct timespec second = {1, 0};
    for (;;) {
        nanosleep(&second, NULL);
        int fd = __atomic_load_n(&reading, __ATOMIC_ACQUIRE) ? __atomic_load_n(watched, __ATOMIC_RELAXED) : -1;
        struct stat socket;
        if (fd < 0 || fstat(fd, &socket) != 0 || !S_ISSOCK(socket.st_mode)) {
            seconds = 0;
            continue;
        }
        unsigned request = __atomic_load_n(&requests, __ATOMIC_RELAXED);
        if (request != seen_request || socket.st_ino != seen_socket) {
            seen_request = request;
            seen_socket = socket.st_ino;
            seconds = 0;
        }
        // The first look may come at once after the accept: more than `limit` looks is at least
        // `limit` seconds.
        if (++seconds > limit) {
            __atomic_store_n(&cut, 1, __ATOMIC_RELEASE);
            shutdown(fd, SHUT_RD);
            seconds = 0;
        }
    }
    return NULL;
}

int stellar_read_watchdog_start(const FCGX_Request *request, int limit_seconds) {
    watched = &request->ipcFd;
    limit = limit_seconds;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    // It calls nothing deep: the smallest stack keeps the worker's memory as it was.
    pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    // Signals stay with the worker's own thread (SIGTERM must interrupt its accept).
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before);
    pthread_t thread;
    int status = pthread_create(&thread, &attributes, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    pthread_attr_destroy(&attributes);
    return status;
}
