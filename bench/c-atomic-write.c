/*
 * c-atomic-write: the benchmark's reference for "what a durable write costs" (bench/lean, beside
 * POST /webhooks). Each process loops, for SECONDS: create a temp file, write SIZE bytes, fsync,
 * close, rename it into place, fsync the folder: the store's atomic write (FileSystem.swift),
 * nothing else (no lock, no JSON, no HTTP).
 *
 * Usage: c-atomic-write FOLDER SECONDS SIZE PROCESSES
 * Prints one line: "<writes> <seconds>" (all processes together). Exit 1 on any failed call.
 * Build: cc -O2 -o c-atomic-write c-atomic-write.c
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One process's loop; returns the number of writes, -1 on a failure. */
static long loop(const char *folder, double seconds, size_t size, int worker)
{
    char *bytes = malloc(size), temp[4096], final[4096];
    int dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bytes == NULL || dir < 0)
        return -1;
    memset(bytes, 'x', size);
    long n = 0;
    double end = now() + seconds;
    while (now() < end) {
        snprintf(temp, sizeof temp, "%s/.tmp-%d-%ld", folder, worker, n);
        snprintf(final, sizeof final, "%s/%d-%ld.json", folder, worker, n);
        int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, bytes, size) != (ssize_t)size || fsync(fd) != 0 || close(fd) != 0 ||
            rename(temp, final) != 0 || fsync(dir) != 0) {
            perror("c-atomic-write");
            return -1;
        }
        n++;
    }
    close(dir);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: c-atomic-write FOLDER SECONDS SIZE PROCESSES\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    int processes = atoi(argv[4]);
    if (seconds <= 0 || size < 1 || processes < 1 || processes > 256) {
        fprintf(stderr, "c-atomic-write: bad arguments\n");
        return 2;
    }
    int fds[256][2];
    double started = now();
    for (int i = 0; i < processes; i++) {
        if (pipe(fds[i]) != 0)
            return 1;
        if (fork() == 0) {
            long n = loop(argv[1], seconds, size, i);
            dprintf(fds[i][1], "%ld\n", n);
            _exit(n < 0);
        }
        close(fds[i][1]);
    }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < processes; i++) {
        char buf[64] = {0};
        if (read(fds[i][0], buf, sizeof buf - 1) <= 0 || atol(buf) < 0)
            failed = 1;
        total += atol(buf);
    }
    while (wait(NULL) > 0)
        ;
    printf("%ld %.3f\n", total, now() - started);
    return failed;
}
