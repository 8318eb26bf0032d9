// syncfs(2), a GNU extension Swift's Glibc module does not show: one call makes everything written
// to a filesystem durable, which lets the store commit a batch of files at once.
#define _GNU_SOURCE
#include <unistd.h>

static inline int stellar_syncfs(int fd) {
    return syncfs(fd);
}
