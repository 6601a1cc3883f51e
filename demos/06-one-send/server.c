/*
 * Demo 6, one send, many recvs (拆包): the client sends 1 MiB with one send();
 * the server asks recv for all of it at once - recv(1048576) - and still gets
 * it in pieces, each one what had arrived by then.
 */
#include "data.h"
#include "demo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 06-one-send-server [--host ADDR] [--port N] [--full] [--sync] [--rcvbuf BYTES]\n" \
              "  --rcvbuf BYTES  receive buffer to ask for (default 32768; 0: the system's own)"
#define MAX_SIZES 4096

/* What the recvs returned. */
struct pieces {
    int recvs;
    size_t largest;
    size_t sizes[MAX_SIZES];
};

static void report(const struct trace *t, const struct pieces *p, int rcvbuf, int small);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_WANTS_RCVBUF, 0);
    if (a.rcvbuf < 0) /* not given: the small buffer of the lesson */
        a.rcvbuf = RCVBUF; /* a small receive buffer (see data.h) */
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    int conn = demo_accept(listener, 1);
    demo_sync_post(sync, N_("conn 1 accepted")); /* and nothing to print until data comes */
    struct trace t = demo_trace(1, &a);

    static struct pieces p;
    char *buf = malloc(SIZE);
    size_t n;
    if (!buf)
        demo_die("out of memory");
    while ((n = demo_recv(&t, conn, buf, SIZE)) > 0) { /* data = conn.recv(1048576), until EOF */
        if (p.recvs < MAX_SIZES)
            p.sizes[p.recvs] = n;
        p.recvs++;
        p.largest = n > p.largest ? n : p.largest;
    }
    free(buf);

    int rcvbuf;
    socklen_t len = sizeof rcvbuf;
    if (getsockopt(conn, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) < 0) /* what the kernel gave */
        demo_die("getsockopt(SO_RCVBUF): %s", strerror(errno));
    report(&t, &p, rcvbuf, a.rcvbuf > 0);
    if (t.rcvd != SIZE)
        return 1;
    return a.sync && a.rcvbuf > 0 && !(p.recvs > 1 && p.largest < SIZE) ? 1 : 0;
}

/* print_sizes - "the 32 recvs returned 49152, 32768 (30 times), 16384 bytes" */
static void print_sizes(const struct pieces *p)
{
    char sizes[1024] = "", times[64];
    size_t used = 0;

    for (int i = 0, j; i < p->recvs && i < MAX_SIZES && used < sizeof sizes; i = j) {
        for (j = i + 1; j < p->recvs && j < MAX_SIZES && p->sizes[j] == p->sizes[i]; j++)
            ;
        times[0] = '\0';
        if (j - i > 1)
            snprintf(times, sizeof times, demo_tr(N_(" (%d times)")), j - i);
        used += (size_t)snprintf(sizes + used, sizeof sizes - used, "%s%zu%s", i ? ", " : "",
                                 p->sizes[i], times);
    }
    demo_say("the %d recvs returned %s bytes", p->recvs, sizes);
}

/* report - the pieces in one line, the facts the harness checks, the lesson. */
static void report(const struct trace *t, const struct pieces *p, int rcvbuf, int small)
{
    print_sizes(p);
    demo_fact("rcvbuf", "%d", rcvbuf);
    demo_fact("asked", "%d", SIZE);
    demo_fact("recvs", "%d", p->recvs);
    demo_fact("largest", "%zu", p->largest);
    demo_fact("bytes", "%ld", t->rcvd);
    if (small)
        demo_say("We asked for a %d-byte receive buffer (the kernel gave %d), so the pieces "
                 "are many.", RCVBUF, rcvbuf);
    else
        demo_say("The system's own receive buffer (Linux grows it while data flows): %d bytes "
                 "at the end.", rcvbuf);
    if (p->recvs > 1)
        demo_say("One send of %d bytes took %d recvs; each asked for all of it and got what "
                 "had come: at most %zu.", SIZE, p->recvs, p->largest);
    else {
        demo_say("This time one recv returned all %d bytes: the reader came late, and the "
                 "buffer had room.", SIZE);
        demo_say("Nothing says it will next time.");
    }
}
