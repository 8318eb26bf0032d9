// Linux calls Swift cannot make directly or comfortably (prctl is variadic; sockaddr_un).
#include <signal.h>
#include <sys/prctl.h>

// Ask the kernel to send `signal` to this process when its parent (the master) dies, so no
// worker outlives a master killed with SIGKILL.
static inline int stellar_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal);
}

// signalfd(2): the delivery helper takes SIGTERM/SIGINT as a descriptor in its poll loop.
#include <sys/signalfd.h>

// Unix stream sockets: the FastCGI socket, the delivery helper's, and their clients. In C, since
// sockaddr_un and the SOCK_* flags are awkward from Swift (and not visible beside libcurl's
// headers in release builds).
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

// A new close-on-exec stream socket, or -1 with errno.
static inline int stellar_unix_socket(int nonblocking) {
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
}

// Fills `address` with `path`; -1 with ENAMETOOLONG when it does not fit (the configuration
// check keeps configured paths short enough).
static inline int stellar_unix_address(struct sockaddr_un *address, const char *path) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(address->sun_path, path);
    return 0;
}

static inline int stellar_unix_bind(int fd, const char *path) {
    struct sockaddr_un address;
    if (stellar_unix_address(&address, path) < 0) return -1;
    return bind(fd, (struct sockaddr *)&address, sizeof address);
}

static inline int stellar_unix_connect(int fd, const char *path) {
    struct sockaddr_un address;
    if (stellar_unix_address(&address, path) < 0) return -1;
    return connect(fd, (struct sockaddr *)&address, sizeof address);
}

// A TCP listener on `host` (empty or "*": every interface) and `port`, close-on-exec, with
// SO_REUSEADDR so a restarted master binds at once. The fd, or -1 with errno, or -2 when the host
// does not resolve (getaddrinfo's error in *gai_error).
#include <netdb.h>
#include <unistd.h>

static inline int stellar_tcp_listen(const char *host, const char *port, int backlog, int *gai_error) {
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int every = host[0] == '\0' || strcmp(host, "*") == 0;
    int status = getaddrinfo(every ? NULL : host, port, &hints, &found);
    if (status != 0) {
        *gai_error = status;
        return -2;
    }
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
                    bind(fd, found->ai_addr, found->ai_addrlen) < 0 || listen(fd, backlog) < 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

#include <stddef.h>

// One datagram to the unix socket at `path` ("@name" for the abstract namespace, as systemd's
// $NOTIFY_SOCKET may be): sd_notify(3)'s protocol without libsystemd. 0, or -1 with errno.
static inline int stellar_notify(const char *path, const char *message, size_t length) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t path_length = strlen(path);
    if (path_length == 0 || path_length >= sizeof address.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(address.sun_path, path, path_length);
    if (path[0] == '@') address.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length);
    ssize_t sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&address, size);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 0;
}

// What a listening socket is bound to, as text: its path, or IPv4 address and port. 0, or -1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

static inline int stellar_socket_name(int fd, char *text, size_t size) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return -1;
    if (address.ss_family == AF_UNIX) {
        struct sockaddr_un *unix_address = (struct sockaddr_un *)&address;
        snprintf(text, size, "%s", unix_address->sun_path[0] ? unix_address->sun_path : "(unnamed unix socket)");
        return 0;
    }
    char host[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (address.ss_family == AF_INET) {
        struct sockaddr_in *ipv4 = (struct sockaddr_in *)&address;
        inet_ntop(AF_INET, &ipv4->sin_addr, host, sizeof host);
        port = ntohs(ipv4->sin_port);
        snprintf(text, size, "%s:%d", host, port);
    } else if (address.ss_family == AF_INET6) {
        struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&address;
        inet_ntop(AF_INET6, &ipv6->sin6_addr, host, sizeof host);
        port = ntohs(ipv6->sin6_port);
        snprintf(text, size, "[%s]:%d", host, port);
    } else {
        return -1;
    }
    return 0;
}
