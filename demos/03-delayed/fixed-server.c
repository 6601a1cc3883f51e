/* Demo 3, fixed: the same pause, readers fast and slow. Both deliver the
 * messages "hello" and "world", whatever one recv returned. */
#include "demo.h"
#include "frame.h"

#define USAGE "usage: 03-delayed-fixed-server [--host ADDR] [--port N] [--full] [--sync]"

/* receive - one recv(1024), as in demo 3; print every message it completed.
 * Returns its byte count (0: the client closed). */
static size_t receive(struct trace *t, struct frame_reader *r, int conn)
{
    char buf[1024];
    size_t n = demo_recv(t, conn, buf, sizeof buf);
    demo_deliver(t, r, buf, n);
    return n;
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    struct frame_reader r1, r2;
    frame_reader_init(&r1, 1024);
    frame_reader_init(&r2, 1024);

    /* conn 1: a reader that keeps up */
    int conn = demo_accept(listener, 1);
    struct trace t1 = demo_trace(1, &a);
    demo_expect_frames(&t1); /* recv lines say where the headers are */
    receive(&t1, &r1, conn);
    demo_sync_post(sync, N_("read the first send"));
    while (receive(&t1, &r1, conn) > 0) /* the rest, until the client closes */
        ;
    close(conn);

    /* conn 2: a reader slower than the pause */
    conn = demo_try_accept(listener, 2, a.sync ? DEMO_WAIT_S : DEMO_SOFT_WAIT_MS / 1000);
    struct trace t2 = demo_trace(2, &a);
    demo_expect_frames(&t2); /* recv lines say where the headers are */
    if (conn >= 0) {
        demo_wait_queued(conn, 2 * FRAME_HEADER_SIZE + DEMO_WORDS_SIZE);
        receive(&t2, &r2, conn);
    }

    int ok = t1.messages == 2 && (conn < 0 || t2.messages == 2);
    if (ok && conn < 0)
        demo_say("Two messages on conn 1, however the recvs cut them: the lengths, not the "
                 "timing, mark where a message ends.");
    else if (ok)
        demo_say("Two messages on each connection, however the recvs cut them: the lengths, "
                 "not the timing, mark where a message ends.");
    frame_reader_free(&r1);
    frame_reader_free(&r2);
    return ok ? 0 : 1;
}
