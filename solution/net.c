/* net.c - TCP sockets: listen, accept, connect (see net.h). */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) static void set_error(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, NET_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* resolve - the addresses to try for host:port, or NULL (err says why). */
static struct addrinfo *resolve(char *err, const char *host, int port, int passive)
{
    struct addrinfo hints, *res;
    char port_text[16];
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    snprintf(port_text, sizeof port_text, "%d", port);
    if ((rc = getaddrinfo(host, port_text, &hints, &res)) != 0) {
        set_error(err, "%s: %s", host, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* bind_and_listen, connect_to - what net_listen and net_connect do with
 * each address getaddrinfo gives; 0 or -1 with errno. */
static int bind_and_listen(int fd, const struct addrinfo *ai, int backlog)
{
    int one = 1;

    /* Restart at once on the same port, even while connections of the
     * previous run sit in TIME_WAIT. */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    return bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0 ? 0 : -1;
}

static int connect_to(int fd, const struct addrinfo *ai, int unused)
{
    int rc;

    (void)unused;
    /* A connect() interrupted by a signal goes on in the background;
     * calling it again says EALREADY, then EISCONN once it is done. */
    while ((rc = connect(fd, ai->ai_addr, ai->ai_addrlen)) < 0 && errno == EINTR)
        ;
    return rc == 0 || errno == EISCONN ? 0 : -1;
}

/* open_first - a socket for the first address of host:port that use() accepts,
 * or -1 (err says what failed, for the last address tried). */
static int open_first(char *err, const char *host, int port, int passive, const char *what,
                      int (*use)(int, const struct addrinfo *, int), int arg)
{
    struct addrinfo *res = resolve(err, host, port, passive), *ai;
    int fd = -1, saved_errno = 0;

    if (res == NULL)
        return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) >= 0 &&
            use(fd, ai, arg) == 0)
            break;
        saved_errno = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_error(err, "cannot %s %s port %d: %s", what, host, port, strerror(saved_errno));
        errno = saved_errno;
    }
    return fd;
}

int net_listen(char *err, const char *host, int port, int backlog)
{
    return open_first(err, host, port, 1, "listen on", bind_and_listen, backlog);
}

int net_local_name(char *err, int fd, char *out, size_t cap, int *loopback)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        set_error(err, "getsockname: %s", strerror(errno));
        return -1;
    }
    net_format_addr((struct sockaddr *)&ss, len, out, cap);
    if (loopback != NULL)
        *loopback = net_is_loopback((struct sockaddr *)&ss);
    return 0;
}

int net_accept(char *err, int listen_fd, char *peer, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    do {
        len = sizeof ss;
        fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int saved_errno = errno; /* EAGAIN, EMFILE...: the caller decides by it */
        set_error(err, "accept: %s", strerror(saved_errno));
        errno = saved_errno;
        return -1;
    }
    if (peer != NULL)
        net_format_addr((struct sockaddr *)&ss, len, peer, cap);
    return fd;
}

int net_connect(char *err, const char *host, int port)
{
    return open_first(err, host, port, 0, "connect to", connect_to, 0);
}

int net_set_nonblock(char *err, int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags >= 0 && (flags & O_NONBLOCK ? 1 : 0) == (on ? 1 : 0))
        return 0; /* already so: spare the second system call */
    if (flags < 0 || fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0) {
        set_error(err, "fcntl(O_NONBLOCK): %s", strerror(errno));
        return -1;
    }
    return 0;
}

int net_set_cloexec(char *err, int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags >= 0 && (flags & FD_CLOEXEC))
        return 0;
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
        set_error(err, "fcntl(FD_CLOEXEC): %s", strerror(errno));
        return -1;
    }
    return 0;
}

int net_set_nodelay(char *err, int fd, int on)
{
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) {
        set_error(err, "setsockopt(TCP_NODELAY): %s", strerror(errno));
        return -1;
    }
    return 0;
}

int net_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const unsigned char *a =
            (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        return a[0] == 127;
    }
    if (sa->sa_family == AF_INET6) {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const unsigned char *a =
            (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        return memcmp(a, loop6, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
    }
    return 0;
}

int net_peer_is_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    return getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
           net_is_loopback((struct sockaddr *)&ss);
}

void net_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    char host[64], port[16];

    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, cap, "?");
    else if (sa->sa_family == AF_INET6)
        snprintf(out, cap, "[%s]:%s", host, port);
    else
        snprintf(out, cap, "%s:%s", host, port);
}
