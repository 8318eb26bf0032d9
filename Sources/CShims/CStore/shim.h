// What the store needs from C: syncfs(2), a GNU extension Swift's Glibc module does not show, for
// committing a batch of files at once; getrandom(2), which it does not show either, for ids and
// secrets; and atomic counters in a shared mapping, which every process bumps and reads to know
// when its caches are stale, or to count what the service did (the scoreboard).
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

// The scoreboard's counters and states (Scoreboard.swift): every process adds to and sets words
// of one shared mapping. Relaxed: each word stands alone, and a reader only sums them up.
static inline void stellar_counter_add(uint64_t *counter, uint64_t amount) {
    __atomic_add_fetch(counter, amount, __ATOMIC_RELAXED);
}

static inline void stellar_counter_store(uint64_t *counter, uint64_t value) {
    __atomic_store_n(counter, value, __ATOMIC_RELAXED);
}

// Sets *word to `desired` if it holds `expected`; true when it did (a worker claiming a free slot).
static inline int stellar_counter_exchange(uint64_t *word, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
