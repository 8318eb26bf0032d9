#include "stellar_curl.h"

#include <dlfcn.h>
#include <stdio.h>

// The functions the helper uses, filled in by stellar_curl_load.
static struct {
    CURLcode (*global_init)(long);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_header *(*easy_nextheader)(CURL *, unsigned int, int, struct curl_header *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
} curl;

int stellar_curl_load(char *error, unsigned long errorSize) {
    if (curl.easy_init) return 0;
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, errorSize, "%s", dlerror());
        return -1;
    }
#define LOAD(field, symbol)                                                 \
    if (!(*(void **)&curl.field = dlsym(library, symbol))) {                 \
        snprintf(error, errorSize, "libcurl.so.4 has no %s", symbol);        \
        return -1;                                                          \
    }
    LOAD(global_init, "curl_global_init")
    LOAD(multi_init, "curl_multi_init")
    LOAD(multi_cleanup, "curl_multi_cleanup")
    LOAD(multi_add_handle, "curl_multi_add_handle")
    LOAD(multi_remove_handle, "curl_multi_remove_handle")
    LOAD(multi_poll, "curl_multi_poll")
    LOAD(multi_perform, "curl_multi_perform")
    LOAD(multi_info_read, "curl_multi_info_read")
    LOAD(easy_cleanup, "curl_easy_cleanup")
    LOAD(easy_strerror, "curl_easy_strerror")
    LOAD(easy_nextheader, "curl_easy_nextheader")
    LOAD(slist_append, "curl_slist_append")
    LOAD(slist_free_all, "curl_slist_free_all")
    LOAD(easy_setopt, "curl_easy_setopt")
    LOAD(easy_getinfo, "curl_easy_getinfo")
    LOAD(easy_init, "curl_easy_init")  // last: it marks the table complete
#undef LOAD
    return 0;
}

CURLcode stellar_curl_global_init(long flags) { return curl.global_init(flags); }
CURLM *stellar_curl_multi_init(void) { return curl.multi_init(); }
CURLMcode stellar_curl_multi_cleanup(CURLM *multi) { return curl.multi_cleanup(multi); }
CURLMcode stellar_curl_multi_add_handle(CURLM *multi, CURL *easy) { return curl.multi_add_handle(multi, easy); }
CURLMcode stellar_curl_multi_remove_handle(CURLM *multi, CURL *easy) { return curl.multi_remove_handle(multi, easy); }
CURLMcode stellar_curl_multi_poll(CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeoutMs, int *ready) {
    return curl.multi_poll(multi, extra, count, timeoutMs, ready);
}
CURLMcode stellar_curl_multi_perform(CURLM *multi, int *running) { return curl.multi_perform(multi, running); }
CURLMsg *stellar_curl_multi_info_read(CURLM *multi, int *left) { return curl.multi_info_read(multi, left); }
CURL *stellar_curl_easy_init(void) { return curl.easy_init(); }
void stellar_curl_easy_cleanup(CURL *easy) { curl.easy_cleanup(easy); }
const char *stellar_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_header *stellar_curl_easy_nextheader(CURL *easy, unsigned int origin, int request, struct curl_header *previous) {
    return curl.easy_nextheader(easy, origin, request, previous);
}
struct curl_slist *stellar_curl_slist_append(struct curl_slist *list, const char *text) { return curl.slist_append(list, text); }
void stellar_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

CURLcode stellar_curl_set_long(CURL *easy, CURLoption option, long value) { return curl.easy_setopt(easy, option, value); }
CURLcode stellar_curl_set_string(CURL *easy, CURLoption option, const char *value) { return curl.easy_setopt(easy, option, value); }
CURLcode stellar_curl_set_pointer(CURL *easy, CURLoption option, void *value) { return curl.easy_setopt(easy, option, value); }
CURLcode stellar_curl_set_headers(CURL *easy, struct curl_slist *headers) { return curl.easy_setopt(easy, CURLOPT_HTTPHEADER, headers); }
CURLcode stellar_curl_set_write_function(CURL *easy, curl_write_callback callback) {
    return curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, callback);
}
CURLcode stellar_curl_set_open_socket_function(CURL *easy, curl_opensocket_callback callback) {
    return curl.easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, callback);
}
CURLcode stellar_curl_get_long(CURL *easy, CURLINFO info, long *value) { return curl.easy_getinfo(easy, info, value); }
CURLcode stellar_curl_get_off_t(CURL *easy, CURLINFO info, curl_off_t *value) { return curl.easy_getinfo(easy, info, value); }
