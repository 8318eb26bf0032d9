// The process's mappings of read-only file pages, dropped after start-up (bench/README.md,
// "Memory"). The kernel maps a file's pages 64 KB around each first touch, and start-up (the
// Swift runtime's first casts and metadata, configuration, a library's initialization) touches
// code and constants that the serving loops never run again, yet they kept counting in every
// worker's, the master's and the helper's VmRSS. In C: dl_iterate_phdr needs _GNU_SOURCE, which
// a header shared with Swift's Glibc module cannot define.
#ifndef STELLAR_PAGES_H
#define STELLAR_PAGES_H

// Drops this process's mappings of the read-only segments of the binary and its libraries (code,
// constants, symbol tables): what no longer runs stops counting in its VmRSS, and is reclaimable
// once no other process maps it. The page cache keeps the pages, so those still in use come back
// at their next touch, a minor fault each. Writable segments (data, and RELRO, which the loader
// wrote) are never dropped, which would lose what was written; nor the vDSO, the kernel's.
// It drops at the first call, whenever a library has been loaded since the last drop (its
// initialization is start-up work too), and, when `every_seconds` is positive, once that long has
// passed since the last drop: code a process ran for a rare request (a setup, an export) stops
// counting too, and what it runs all the time comes back at the cost of a few dozen minor faults.
// `drops` keeps what the next call compares, zeroed before the first. Returns 1 when it dropped.
struct stellar_page_drops {
    unsigned long long loads;  // the loader's count of loads at the last drop
    long long at;              // CLOCK_MONOTONIC seconds of the last drop
};
int stellar_drop_read_only_pages(struct stellar_page_drops *drops, int every_seconds);

#endif
