#define _GNU_SOURCE
#include "stellar_pages.h"

#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

static int loads_of(struct dl_phdr_info *info, size_t size, void *loads) {
    (void)size;
    *(unsigned long long *)loads = info->dlpi_adds;
    return 1;  // the first object tells
}

static int drop_read_only_of(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size, (void)unused;
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

int stellar_drop_read_only_pages(unsigned long long *loads) {
    unsigned long long now = 0;
    dl_iterate_phdr(loads_of, &now);
    if (now == *loads) return 0;
    dl_iterate_phdr(drop_read_only_of, NULL);
    *loads = now;
    return 1;
}
