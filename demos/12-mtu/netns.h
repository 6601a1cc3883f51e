/*
 * netns.h - demo 12's link: a network namespace of the server's own, whose
 * loopback has Ethernet's MTU (1500 bytes) instead of 65536, and the way
 * the client gets into it. Linux only; elsewhere the demo says so and skips.
 *
 * The server (link_open) does, from C, what these commands do:
 *     unshare --user --map-root-user --net    a user namespace in which we
 *                                             are root (no privilege needed
 *                                             where the kernel allows it),
 *                                             owning a new network namespace
 *     ip link set lo mtu 1500 up              ioctl SIOCSIFMTU, SIOCSIFFLAGS
 * As root, where user namespaces are off, a network namespace alone does.
 * Its listening socket then lives in that namespace.
 *
 * The client is started outside, as usual, with --port. Before its unshare
 * the server listened on 127.0.0.1:PORT outside too, and that socket stays
 * outside: the client connects there first (the rendezvous), reads the
 * server's pid, and joins the server's namespaces with setns(2), as
 * `nsenter --user --net --target PID` does (link_join). Then it connects to
 * 127.0.0.1:PORT again, and reaches the listener inside: the same number, in
 * another namespace.
 *
 * The includer defines _GNU_SOURCE on Linux before any #include: unshare
 * and setns are Linux's, and glibc declares them only then.
 */
#ifndef NETNS_H
#define NETNS_H

#include "demo.h"
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LINK_MTU 1500 /* Ethernet's */

/* What the server has once link_open returns. */
struct link {
    int listener;      /* TCP, on 127.0.0.1:port, inside the namespace */
    int rendezvous;    /* TCP, on the same port, outside */
    int port;
    char skipped[200]; /* why the demo cannot run here ("" if it can) */
};

/* listen_tcp - the TCP listener, with SO_RCVBUF set before any client can
 * connect (a connection inherits it, as demo_listen does). */
static inline int listen_tcp(const struct demo_args *a)
{
    char err[NET_ERR_LEN];
    int fd = net_listen(err, a->host, a->port, 8);

    if (fd < 0)
        demo_die("%s", err);
    if (a->rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &a->rcvbuf, sizeof a->rcvbuf) < 0)
        demo_die("setsockopt(SO_RCVBUF): %s", strerror(errno));
    return fd;
}

/* local_port - the port a socket is bound to (IPv4 or IPv6). */
static inline int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        demo_die("getsockname: %s", strerror(errno));
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

#ifdef __linux__
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* write_text - write text into a /proc file; -1 with errno on failure. */
static inline int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
    int saved = errno;

    if (fd >= 0)
        close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* map_root - our uid and gid become root inside the new user namespace. */
static inline int map_root(uid_t uid, gid_t gid, char *why, size_t cap)
{
    char map[64];

    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_text("/proc/self/uid_map", map) < 0) {
        snprintf(why, cap, "cannot map our uid: /proc/self/uid_map: %s", strerror(errno));
        return -1;
    }
    if (write_text("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) {
        snprintf(why, cap, "cannot map our gid: /proc/self/setgroups: %s", strerror(errno));
        return -1;
    }
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_text("/proc/self/gid_map", map) < 0) {
        snprintf(why, cap, "cannot map our gid: /proc/self/gid_map: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* lo_up - ip link set lo mtu MTU up, in the current network namespace. */
static inline int lo_up(int mtu, char *why, size_t cap)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    const char *step = "SIOCSIFMTU";

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    ifr.ifr_mtu = mtu;
    if (fd < 0) {
        snprintf(why, cap, "cannot set lo's MTU: socket: %s", strerror(errno));
        return -1;
    }
    if (ioctl(fd, SIOCSIFMTU, &ifr) == 0 && (step = "SIOCGIFFLAGS", 1) &&
        ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (step = "SIOCSIFFLAGS", 1)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) == 0) {
            close(fd);
            return 0;
        }
    }
    snprintf(why, cap, "cannot set lo's MTU: ioctl %s: %s", step, strerror(errno));
    close(fd);
    return -1;
}

/* netns_make - a network namespace of our own, lo with MTU mtu. -1 and why if not. */
static inline int netns_make(int mtu, char *why, size_t cap)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        if (map_root(uid, gid, why, cap) < 0)
            return -1;
    } else {
        int saved = errno;
        if (uid != 0 || unshare(CLONE_NEWNET) < 0) { /* root: the network one alone */
            snprintf(why, cap, "cannot make a network namespace: unshare: %s", strerror(saved));
            return -1;
        }
    }
    return lo_up(mtu, why, cap);
}

/* userns_hint - the setting that most likely forbids user namespaces, or "". */
static inline const char *userns_hint(void)
{
    static const struct { const char *path, *text; } knobs[] = {
        {"/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone = 0"},
        {"/proc/sys/user/max_user_namespaces", "user.max_user_namespaces = 0"},
        {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
         "kernel.apparmor_restrict_unprivileged_userns = 1"},
    };
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        FILE *f = fopen(knobs[i].path, "r");
        int v = -1;
        if (f && fscanf(f, "%d", &v) != 1)
            v = -1;
        if (f)
            fclose(f);
        if (v == (i == 2 ? 1 : 0))
            return knobs[i].text;
    }
    return "";
}

/* join_pid - enter the user and network namespaces of process pid (setns). */
static inline void join_pid(pid_t pid)
{
    char path[64];
    struct stat mine, theirs;

    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    int user = open(path, O_RDONLY);
    if (user < 0)
        demo_die("open %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    int net = open(path, O_RDONLY);
    if (net < 0)
        demo_die("open %s: %s", path, strerror(errno));
    /* Join its user namespace first (where we may join its network one),
     * unless we are in it already. */
    if (stat("/proc/self/ns/user", &mine) < 0 || fstat(user, &theirs) < 0)
        demo_die("stat /proc/self/ns/user: %s", strerror(errno));
    if ((mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev) &&
        setns(user, CLONE_NEWUSER) < 0)
        demo_die("setns(the server's user namespace): %s", strerror(errno));
    if (setns(net, CLONE_NEWNET) < 0)
        demo_die("setns(the server's network namespace): %s", strerror(errno));
    close(user);
    close(net);
}
#endif /* __linux__ */

/* link_mtu - lo's MTU in the current network namespace (-1 if it cannot be read). */
static inline int link_mtu(void)
{
#ifdef __linux__
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), mtu = -1;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
        mtu = ifr.ifr_mtu;
    if (fd >= 0)
        close(fd);
    return mtu;
#else
    return -1;
#endif
}

/*
 * link_open - the server's side: the rendezvous listener outside, then the
 * namespace (or why not) with its own listener on the same port, then
 * "listening on HOST:PORT". Where no namespace can be made, l.skipped says
 * why; the rendezvous still listens, so that the client hears it.
 */
static inline struct link link_open(const struct demo_args *a)
{
    struct link l = {-1, -1, 0, ""};
    char why[200] = "network namespaces are Linux's; this system has none";
    struct demo_args inside = *a;
    int outside = link_mtu();

    l.rendezvous = listen_tcp(a); /* made before the unshare: it stays outside */
    l.port = inside.port = local_port(l.rendezvous);
#ifdef __linux__
    if (netns_make(LINK_MTU, why, sizeof why) == 0) {
        why[0] = '\0';
        l.listener = listen_tcp(&inside); /* a fresh namespace: the port is free */
    }
#endif
    demo_say_as_is("listening on %s:%d", a->host, l.port);
    if (why[0])
        snprintf(l.skipped, sizeof l.skipped, "%s", why);
    else
        demo_say("in a network namespace of its own, where lo has MTU %d (outside: %d)",
                 link_mtu(), outside);
    return l;
}

/*
 * link_meet_client - the server waits for the client at the rendezvous and
 * tells it its pid: "J PID\n", join me. Where the demo cannot run, it says
 * why (the fact line that makes the harness count the run as skipped),
 * answers "S\n" and exits 0.
 */
static inline void link_meet_client(struct link *l)
{
    char err[NET_ERR_LEN], msg[32];
    int skip = l->skipped[0] != 0, n, fd = -1;
    int wait_s = demo_patience(skip ? DEMO_WAIT_S : DEMO_WAIT_PERSON_S);

    if (skip) {
        const char *hint = "";
#ifdef __linux__
        hint = userns_hint();
#endif
        if (*hint)
            demo_say("no link with MTU %d here (%s): demo skipped", LINK_MTU, hint);
        else
            demo_say("no link with MTU %d here: demo skipped", LINK_MTU);
        demo_fact("skipped", "%s", l->skipped);
    }
    if (demo_readable(l->rendezvous, wait_s))
        fd = net_accept(err, l->rendezvous, NULL, 0);
    if (fd < 0 && !skip)
        demo_die("no client came within %d s", wait_s);
    n = snprintf(msg, sizeof msg, skip ? "S\n" : "J %ld\n", (long)getpid());
    if (fd >= 0 && send(fd, msg, (size_t)n, NET_SEND_FLAGS) != n && !skip)
        demo_die("rendezvous: %s", strerror(errno));
    if (skip)
        exit(0);
    close(fd); /* the client has what it needs */
    close(l->rendezvous);
}

/* rendezvous_line - connect to the server outside, and read its one line. */
static inline void rendezvous_line(const struct demo_args *a, char *line, size_t cap)
{
    char err[NET_ERR_LEN];
    int fd = net_connect(err, a->host, a->port);
    size_t have = 0;
    ssize_t n = 1;

    if (fd < 0)
        demo_die("%s (is bin/12-mtu-server running? pass the port it printed)", err);
    while (n > 0 && have < cap - 1 && !memchr(line, '\n', have)) {
        n = -1;
        if (demo_readable(fd, demo_patience(DEMO_WAIT_S)))
            n = recv(fd, line + have, cap - 1 - have, 0);
        have += n > 0 ? (size_t)n : 0;
    }
    line[have] = '\0';
    close(fd);
    if (!memchr(line, '\n', have))
        demo_die("the server said nothing we understand within %d s (a demo 12 server?)",
                 demo_patience(DEMO_WAIT_S));
}

/*
 * link_join - the client joins the server's namespaces (see the top of this
 * file). Where the server made none, it says so and exits 0.
 */
static inline void link_join(const struct demo_args *a)
{
    char line[64];
    long pid = 0;

    rendezvous_line(a, line, sizeof line);
    if (line[0] == 'S') {
        demo_say("the server made no namespace (its skipped line says why): nothing to do");
        exit(0);
    }
    if (sscanf(line, "J %ld", &pid) != 1 || pid <= 0)
        demo_die("the server said %s, not J PID (a demo 12 server?)",
                 demo_escape(line, strlen(line), 0));
#ifdef __linux__
    join_pid((pid_t)pid);
    demo_say("joined the server's network namespace (setns): lo has MTU %d", link_mtu());
#else
    demo_die("a server in a network namespace, and we are not on Linux");
#endif
}

#endif
