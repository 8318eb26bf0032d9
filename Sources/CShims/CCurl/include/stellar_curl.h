// libcurl for the delivery helper, loaded with dlopen when the helper starts: libcurl and the
// libraries it pulls in (TLS, Kerberos, LDAP, ...) then cost nothing in the workers, the master
// and the command line, which never send to Discord. Every call goes through these wrappers;
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so they get typed
// ones. Only libcurl's headers are used at build time (Debian: libcurl4-openssl-dev).
#ifndef STELLAR_CURL_H
#define STELLAR_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

// Loads libcurl.so.4 and its functions once; 0 on success, else -1 with the reason in `error`.
int stellar_curl_load(char *error, unsigned long errorSize);

CURLcode stellar_curl_global_init(long flags);
CURLM *stellar_curl_multi_init(void);
CURLMcode stellar_curl_multi_cleanup(CURLM *multi);
CURLMcode stellar_curl_multi_add_handle(CURLM *multi, CURL *easy);
CURLMcode stellar_curl_multi_remove_handle(CURLM *multi, CURL *easy);
CURLMcode stellar_curl_multi_poll(CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeoutMs, int *ready);
CURLMcode stellar_curl_multi_perform(CURLM *multi, int *running);
CURLMsg *stellar_curl_multi_info_read(CURLM *multi, int *left);
CURL *stellar_curl_easy_init(void);
void stellar_curl_easy_cleanup(CURL *easy);
const char *stellar_curl_easy_strerror(CURLcode code);
struct curl_header *stellar_curl_easy_nextheader(CURL *easy, unsigned int origin, int request, struct curl_header *previous);
struct curl_slist *stellar_curl_slist_append(struct curl_slist *list, const char *text);
void stellar_curl_slist_free_all(struct curl_slist *list);

CURLcode stellar_curl_set_long(CURL *easy, CURLoption option, long value);
CURLcode stellar_curl_set_string(CURL *easy, CURLoption option, const char *value);
CURLcode stellar_curl_set_pointer(CURL *easy, CURLoption option, void *value);
CURLcode stellar_curl_set_headers(CURL *easy, struct curl_slist *headers);
CURLcode stellar_curl_set_write_function(CURL *easy, curl_write_callback callback);
CURLcode stellar_curl_set_open_socket_function(CURL *easy, curl_opensocket_callback callback);
CURLcode stellar_curl_get_long(CURL *easy, CURLINFO info, long *value);
CURLcode stellar_curl_get_off_t(CURL *easy, CURLINFO info, curl_off_t *value);

#endif
