// What the store needs from C: syncfs(2), a GNU extension Swift's Glibc module does not show, for
// committing a batch of files at once; getrandom(2), which it does not show either, for ids and
// secrets; and atomic counters in a shared mapping, which every process bumps and reads to know
// when its caches are stale.
#define _GNU_SOURCE
#include <stdint.h>
#include <unistd.h>

static inline int stellar_syncfs(int fd) {
    return syncfs(fd);
}

// Declared here rather than through <sys/random.h>, whose types clash with Dispatch's module.
extern ssize_t getrandom(void *buffer, size_t length, unsigned int flags);

static inline ssize_t stellar_getrandom(void *buffer, size_t length) {
    return getrandom(buffer, length, 0);
}

static inline uint64_t stellar_counter_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static inline void stellar_counter_bump(uint64_t *counter) {
    __atomic_add_fetch(counter, 1, __ATOMIC_RELEASE);
}
