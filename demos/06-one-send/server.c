/*
 * Demo 6, one send, many recvs (拆包): the client sends 1 MiB with one send();
 * the server asks recv for all of it at once - recv(1048576) - and still gets
 * it in pieces, each one what had arrived by then.
 */
#include "demo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 06-one-send-server [--host ADDR] [--port N] [--full]"
#define ASK (1024 * 1024)  /* recv(1048576): a buffer as big as the whole send */
#define RCVBUF (32 * 1024) /* the receive buffer we ask the kernel for */
#define MAX_SIZES 4096

static void fact(const char *name, long value)
{
    printf("server | fact | %s = %ld\n", name, value);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);

    /* Left alone, Linux lets a receive buffer grow to megabytes while data
     * flows, and how many pieces 1 MiB makes would depend on timing. A small
     * buffer makes them many on every kernel: no recv can take out more than
     * has arrived. It must be set before the client connects: the connection
     * inherits it from the listening socket, and the window scale that
     * follows from it is fixed in the handshake. */
    int size = RCVBUF;
    if (setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
        demo_die("server", "setsockopt(SO_RCVBUF): %s", strerror(errno));
    int sync = demo_accept_sync(listener); /* the client connects only after this */
    int conn = demo_accept(listener, 1);
    demo_sync_post(sync, "server", "conn 1 accepted"); /* and nothing to print until data comes */
    struct trace t = demo_trace("server", 1, &a);
    socklen_t len = sizeof size;
    if (getsockopt(conn, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) /* what the kernel gave */
        demo_die("server", "getsockopt(SO_RCVBUF): %s", strerror(errno));

    char *buf = malloc(ASK);
    static size_t sizes[MAX_SIZES];
    size_t n, largest = 0;
    int recvs = 0;
    if (!buf)
        demo_die("server", "out of memory");
    while ((n = demo_recv(&t, conn, buf, ASK)) > 0) { /* data = conn.recv(1048576), until EOF */
        if (recvs < MAX_SIZES)
            sizes[recvs] = n;
        recvs++;
        largest = n > largest ? n : largest;
    }

    printf("server: the %d recvs returned", recvs); /* e.g. 49152, 32768 (30 times), 16384 */
    for (int i = 0, j; i < recvs && i < MAX_SIZES; i = j) {
        for (j = i + 1; j < recvs && j < MAX_SIZES && sizes[j] == sizes[i]; j++)
            ;
        printf("%s %zu", i ? "," : "", sizes[i]);
        if (j - i > 1)
            printf(" (%d times)", j - i);
    }
    printf(" bytes\n");
    fact("rcvbuf", size);
    fact("asked", ASK);
    fact("recvs", recvs);
    fact("largest", (long)largest);
    fact("bytes", t.rcvd);

    int ok = recvs > 1 && largest < ASK && t.rcvd == ASK;
    if (ok)
        demo_say("server", "One send of %d bytes took %d recvs. Each asked for all %d bytes and "
                           "got less, at most %zu: the receive buffer "
                           "(SO_RCVBUF = %d bytes here) holds far less than the send.",
                 ASK, recvs, ASK, largest, size);
    else
        demo_say("server", "%d recvs returned %ld bytes (largest %zu): not the pieces the "
                           "lesson expects.", recvs, t.rcvd, largest);
    free(buf);
    return ok ? 0 : 1;
}
