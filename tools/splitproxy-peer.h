/*
 * splitproxy-peer.h - whether the receiver has taken a write of a re-cut
 * stream, so that the next piece may follow: a cut is only seen by a program
 * that read the bytes before it on their own.
 *
 * Its kernel has the bytes when none of ours is left unacknowledged
 * (TIOCOUTQ). That is not enough: a program that wakes late (a loaded
 * machine) finds the next piece there too, and one recv() returns both. So,
 * on Linux, we also wait until the program has READ them: the receiving
 * socket, found in /proc/net/tcp (or tcp6) by its addresses - its local
 * address is our peer's, its remote one ours - has an empty receive queue.
 * Where that cannot be seen (no /proc, another machine), the ack and the gap
 * are all there is. Included by splitproxy.c alone, after splitproxy-sched.h.
 */
#ifndef SPLITPROXY_PEER_H
#define SPLITPROXY_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* acked - whether the receiver's kernel has taken every byte we wrote to fd. */
static int acked(int fd)
{
#ifdef TIOCOUTQ
    int unsent = 0;

    if (ioctl(fd, TIOCOUTQ, &unsent) == 0)
        return unsent == 0;
#else
    (void)fd;
#endif
    return 1; /* no way to know here: the gap alone separates the writes */
}

#define PEER_GONE (-1)    /* no program holds the receiving socket any more */
#define PEER_UNKNOWN (-2) /* what the receiver has read cannot be seen here */
#define PEER_ABSENT (-3)  /* no such socket in the table (or ours is reset) */

#ifdef __linux__
#define PROC_KEY_LEN 64

/* proc_key - an address as /proc/net/tcp prints it ("0100007F:1F90": the
 * address's 32-bit words in this machine's byte order, then the port); with
 * mapped, an IPv4 address as tcp6 prints it for an IPv6 socket (::ffff:a.b.c.d). */
static int proc_key(const struct sockaddr_storage *ss, int mapped, char *out)
{
    unsigned char b[16] = {0};
    uint32_t w[4];
    unsigned port;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        port = ntohs(a->sin_port);
        if (!mapped) {
            memcpy(w, &a->sin_addr, 4);
            snprintf(out, PROC_KEY_LEN, "%08X:%04X", (unsigned)w[0], port);
            return 0;
        }
        b[10] = b[11] = 0xff;
        memcpy(b + 12, &a->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        port = ntohs(a->sin6_port);
        memcpy(b, &a->sin6_addr, 16);
    } else {
        return -1;
    }
    memcpy(w, b, 16);
    snprintf(out, PROC_KEY_LEN, "%08X%08X%08X%08X:%04X", (unsigned)w[0], (unsigned)w[1],
             (unsigned)w[2], (unsigned)w[3], port);
    return 0;
}

/* queued_in - the receive queue of the socket with these local and remote
 * addresses in the table path: bytes; PEER_GONE if no program holds it and
 * none will (inode 0 - no program's - and not ESTABLISHED, which would be a
 * connection not accepted yet: closed, lingering in FIN_WAIT or TIME_WAIT);
 * PEER_ABSENT if it is not there; PEER_UNKNOWN if the table cannot be read. */
static long queued_in(const char *path, const char *local, const char *remote)
{
    static char buf[1 << 16]; /* one read for most tables (stdio's default here: 1 KiB) */
    char line[512], l[PROC_KEY_LEN], r[PROC_KEY_LEN];
    unsigned long tx, rx, inode;
    unsigned state;
    long found = PEER_ABSENT;
    FILE *f = fopen(path, "r");

    if (!f)
        return PEER_UNKNOWN;
    setvbuf(f, buf, _IOFBF, sizeof buf);
    while (found == PEER_ABSENT && fgets(line, sizeof line, f))
        if (sscanf(line, " %*d: %63s %63s %x %lx:%lx %*x:%*x %*x %*u %*d %lu", l, r, &state, &tx,
                   &rx, &inode) == 6 && strcmp(l, local) == 0 && strcmp(r, remote) == 0)
            found = inode || state == 1 ? (long)rx : PEER_GONE;
    fclose(f);
    return found;
}
#endif

#ifdef __linux__
/* unmap - an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address
 * it is: an IPv6 socket of ours may be connected to an IPv4 one. */
static void unmap(struct sockaddr_storage *ss)
{
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
    struct sockaddr_in a4;

    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
        return;
    memset(&a4, 0, sizeof a4);
    a4.sin_family = AF_INET;
    a4.sin_port = a6->sin6_port;
    memcpy(&a4.sin_addr, a6->sin6_addr.s6_addr + 12, 4);
    memcpy(ss, &a4, sizeof a4);
}
#endif

/* find_peer - the receive queue of the socket at the other end of fd: see queued_in. */
static long find_peer(int fd)
{
#ifdef __linux__
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    char local[PROC_KEY_LEN], remote[PROC_KEY_LEN];

    if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
        return PEER_ABSENT; /* ours is not connected any more (reset) */
    unmap(&me); /* then looked for in tcp, and as mapped in tcp6 */
    unmap(&peer);
    for (int mapped = 0; mapped <= (peer.ss_family == AF_INET); mapped++) {
        if (proc_key(&peer, mapped, local) < 0 || proc_key(&me, mapped, remote) < 0)
            return PEER_UNKNOWN;
        int v4 = peer.ss_family == AF_INET && !mapped;
        long n = queued_in(v4 ? "/proc/net/tcp" : "/proc/net/tcp6", local, remote);
        if (n != PEER_ABSENT)
            return n;
    }
    return PEER_ABSENT;
#else
    (void)fd;
    return PEER_UNKNOWN;
#endif
}

/* peer_unread - how many of the bytes written toward d's receiver it has not
 * read yet (0: it has read them all); PEER_GONE if no program is there to
 * read them any more; PEER_UNKNOWN if that cannot be seen. A receiving
 * socket never seen (another machine) is unknown; once seen, one that is
 * gone is gone. */
static long peer_unread(struct dir *d)
{
    long n = find_peer(d->out);

    if (n >= 0 || n == PEER_GONE)
        d->peer_seen = 1;
    d->peer_missed = n == PEER_ABSENT ? d->peer_missed + 1 : 0;
    if (n == PEER_ABSENT) /* twice in a row: the table is read in pieces, not at one instant */
        return d->peer_seen && d->peer_missed >= 2 ? PEER_GONE : PEER_UNKNOWN;
    return n;
}

/* settled - after a write of a re-cut stream: whether the receiver has taken
 * it (read it, where that can be seen), or has been waited for long enough. */
static int settled(struct dir *d, int64_t now)
{
    int arrived = acked(d->out); /* first: bytes still on their way are in no queue yet */
    long unread = peer_unread(d);

    if (now >= d->settle_until || unread == PEER_GONE)
        return 1; /* a receiver that does not read, or is gone: go on, as TCP would */
    return arrived && unread <= 0;
}

/* settle_poll - when to look again: soon at first, then less often (each
 * look reads /proc/net/tcp), at most every 10 ms. */
static int64_t settle_poll(const struct dir *d, int64_t now)
{
    int64_t waited = now - d->settle_from;

    return now + (waited < 10 ? 1 : waited < 100 ? waited / 10 : 10);
}

#endif
