/*
 * Demo 12, fixed: the same two connections, the same namespace, the same
 * recv(1048576) by a server as far behind; each stream is now one frame,
 * and the frame reader keeps the pieces until the length says a message is
 * complete.
 */
#ifdef __linux__
#define _GNU_SOURCE /* unshare, setns, POLLRDHUP: Linux's, declared by glibc only then */
#endif
#include "mtu.h"
#include "netns.h"

#define USAGE "usage: 12-mtu-fixed-server [--host ADDR] [--port N] [--full] [--sync]"

/* read_frames - recv(1048576) until the client closes; every whole frame is a message. */
static void read_frames(int conn, struct trace *t, char *buf)
{
    struct frame_reader reader;
    const unsigned char *body;
    uint32_t len;
    size_t n;
    int status;

    frame_reader_init(&reader, SIZE); /* longer frames are refused before any allocation */
    do {
        wait_behind(conn); /* as far behind as server.c */
        n = demo_recv(t, conn, buf, SIZE);
        if (frame_reader_push(&reader, buf, n) != FRAME_OK)
            demo_die("out of memory");
        while ((status = frame_reader_next(&reader, &body, &len)) == FRAME_OK)
            demo_message(t, body, len); /* only once every byte of the frame is in */
        if (status != FRAME_AGAIN)
            demo_die("not a frame: %s", frame_strerror(status));
    } while (n > 0);
    if (frame_reader_pending(&reader))
        demo_die("the client closed inside a frame (%zu bytes of it came)",
                 frame_reader_pending(&reader));
    frame_reader_free(&reader);
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    a.rcvbuf = RCVBUF;
    struct link link = link_open(&a);
    char *buf = malloc(SIZE);

    if (!buf)
        demo_die("out of memory");
    if (!link.skipped[0])
        demo_say("[sync] each recv waits until %d KiB (or all the rest) wait in the "
                 "receive buffer", BEHIND / 1024);
    link_meet_client(&link); /* exits here if the demo cannot run on this machine */
    for (int c = 1; c <= 2; c++) {
        int conn = accept_quietly(link.listener, c);
        struct trace t = demo_trace(c, &a);
        read_frames(conn, &t, buf);
        count_received(conn, &t);
        close(conn);
    }
    free(buf);
    return 0;
}
