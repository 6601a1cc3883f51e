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

#define USAGE "usage: 06-one-send-server [--host ADDR] [--port N] [--full] [--sync]"
#define MAX_SIZES 4096

/* What the recvs returned. */
struct pieces {
    int recvs;
    size_t largest;
    size_t sizes[MAX_SIZES];
};

static void report(const struct trace *t, const struct pieces *p, int rcvbuf);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    a.rcvbuf = RCVBUF; /* a small receive buffer (see data.h) */
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    int conn = demo_accept(listener, 1);
    demo_sync_post(sync, "conn 1 accepted"); /* and nothing to print until data comes */
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
    report(&t, &p, rcvbuf);
    return p.recvs > 1 && p.largest < SIZE && t.rcvd == SIZE ? 0 : 1;
}

/* print_sizes - "the 32 recvs returned 49152, 32768 (30 times), 16384 bytes" */
static void print_sizes(const struct pieces *p)
{
    printf("server: the %d recvs returned", p->recvs);
    for (int i = 0, j; i < p->recvs && i < MAX_SIZES; i = j) {
        for (j = i + 1; j < p->recvs && j < MAX_SIZES && p->sizes[j] == p->sizes[i]; j++)
            ;
        printf("%s %zu", i ? "," : "", p->sizes[i]);
        if (j - i > 1)
            printf(" (%d times)", j - i);
    }
    printf(" bytes\n");
}

/* report - the pieces in one line, the facts the harness checks, the lesson. */
static void report(const struct trace *t, const struct pieces *p, int rcvbuf)
{
    print_sizes(p);
    demo_fact("rcvbuf", "%d", rcvbuf);
    demo_fact("asked", "%d", SIZE);
    demo_fact("recvs", "%d", p->recvs);
    demo_fact("largest", "%zu", p->largest);
    demo_fact("bytes", "%ld", t->rcvd);
    if (p->recvs > 1 && p->largest < SIZE && t->rcvd == SIZE)
        demo_say("One send of %d bytes took %d recvs. Each asked for all %d bytes and "
                 "got less, at most %zu: the receive buffer "
                 "(SO_RCVBUF = %d bytes here) holds far less than the send.",
                 SIZE, p->recvs, SIZE, p->largest, rcvbuf);
    else
        demo_say("%d recvs returned %ld bytes (largest %zu): not the pieces the "
                 "lesson expects.", p->recvs, t->rcvd, p->largest);
}
