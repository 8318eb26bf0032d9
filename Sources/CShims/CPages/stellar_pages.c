#define _GNU_SOURCE
#include "stellar_pages.h"

#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int loads_of(struct dl_phdr_info *info, size_t size, void *loads) {
    (void)size;
    *(unsigned long long *)loads = info->dlpi_adds;
    return 1;  // the first object tells
}

// An object with text relocations had its read-only pages written by the loader: dropping them
// would bring back the file's unrelocated bytes. Debian forbids them; this keeps any such object's
// pages anyway.
static int has_text_relocations(const struct dl_phdr_info *info) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC) continue;
        const ElfW(Dyn) *entry = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        for (; entry->d_tag != DT_NULL; entry++) {
            if (entry->d_tag == DT_TEXTREL) return 1;
            if (entry->d_tag == DT_FLAGS && (entry->d_un.d_val & DF_TEXTREL)) return 1;
        }
    }
    return 0;
}

static int drop_read_only_of(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size, (void)unused;
    if (has_text_relocations(info)) return 0;
    uintptr_t vdso = getauxval(AT_SYSINFO_EHDR), page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_W)) continue;
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_memsz + page - 1) & ~(page - 1);
        if (vdso >= start && vdso < end) continue;
        madvise((void *)start, end - start, MADV_DONTNEED);
    }
    return 0;
}

int stellar_drop_read_only_pages(struct stellar_page_drops *drops, int every_seconds) {
    unsigned long long loads = 0;
    dl_iterate_phdr(loads_of, &loads);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    int due = every_seconds > 0 && now.tv_sec - drops->at >= every_seconds;
    if (loads == drops->loads && !due) return 0;
    dl_iterate_phdr(drop_read_only_of, NULL);
    drops->loads = loads;
    drops->at = now.tv_sec;
    return 1;
}
