/*
 * net.h - TCP sockets: listen, accept, connect, and the options the suite
 * sets on them. Library code in the style of redis' anet: every function
 * that can fail returns -1 and writes why, in one line, into the caller's
 * err buffer (NET_ERR_LEN bytes). None prints or exits; programs decide.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NET_ERR_LEN 256
#define NET_ADDR_LEN 80 /* "[ffff:...:ffff]:65535" and a little more */

/*
 * Flags for every send() on a socket. Writing to a peer that has gone raises
 * SIGPIPE, which kills a process by default; MSG_NOSIGNAL (Linux, the BSDs)
 * turns it into an EPIPE error for that call. Where it does not exist, the
 * program ignores SIGPIPE itself (signal(SIGPIPE, SIG_IGN)).
 */
#ifdef MSG_NOSIGNAL
#define NET_SEND_FLAGS MSG_NOSIGNAL
#else
#define NET_SEND_FLAGS 0
#endif

/*
 * net_listen - a listening TCP socket on host:port (IPv4 or IPv6, as host
 * resolves; port 0 lets the kernel pick a free port), with SO_REUSEADDR so
 * that a restarted server does not fail while old connections sit in
 * TIME_WAIT. Returns the socket, or -1.
 */
int net_listen(char *err, const char *host, int port, int backlog);

/*
 * net_local_name - the address a socket is bound to, as text ("127.0.0.1:8081",
 * "[::1]:8081"), and whether only this host can reach it (*loopback; may be
 * NULL). Returns 0, or -1.
 */
int net_local_name(char *err, int fd, char *out, size_t cap, int *loopback);

/*
 * net_accept - accept one connection, retrying on EINTR; the peer's address
 * as text goes into peer (may be NULL). Returns the socket, or -1 (errno is
 * kept: EAGAIN on a non-blocking socket with nobody waiting, EMFILE...).
 */
int net_accept(char *err, int listen_fd, char *peer, size_t cap);

/* net_connect - a TCP connection to host:port, retrying on EINTR. Returns the socket, or -1. */
int net_connect(char *err, const char *host, int port);

/* net_set_nonblock - O_NONBLOCK on (on = 1) or off: calls return EAGAIN instead of waiting. */
int net_set_nonblock(char *err, int fd, int on);

/* net_set_cloexec - FD_CLOEXEC: the descriptor is closed in every program we exec. */
int net_set_cloexec(char *err, int fd);

/* net_set_nodelay - TCP_NODELAY on or off (off: Nagle's algorithm, the default). */
int net_set_nodelay(char *err, int fd, int on);

/*
 * net_is_loopback - 1 if the address only accepts connections from this host:
 * 127.0.0.0/8, ::1, or ::ffff:127.x.y.z (IPv4 loopback written as IPv6).
 */
int net_is_loopback(const struct sockaddr *sa);

/* net_peer_is_loopback - 1 if the other end of the connected socket fd is this
 * host (net_is_loopback of its address), 0 if not or if it cannot be said. */
int net_peer_is_loopback(int fd);

/* net_format_addr - "1.2.3.4:80" or "[::1]:80"; "?" if it cannot be said. */
void net_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap);

#endif
