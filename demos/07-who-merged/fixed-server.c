/* Demo 7, fixed: the frames sent with TCP_NODELAY still come out of one
 * recv; the frame reader hands out every message, whole. */
#include "demo.h"
#include "frame.h"
#include "words.h"

#define USAGE "usage: 07-who-merged-fixed-server [--host ADDR] [--port N] [--full]"

#define TOTAL (WORDS * FRAME_HEADER_SIZE + bytes_of(NAGLE)) /* five headers, five words */

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    demo_expect_frames(&t); /* recv lines say where the headers are */
    struct frame_reader reader;
    char buf[1024];

    frame_reader_init(&reader, 1024);
    demo_wait_queued(conn, TOTAL); /* every frame is waiting, as in the broken run */
    for (size_t got = 0, n; got < TOTAL; got += n) { /* recv(1024), as often as needed */
        if ((n = demo_recv(&t, conn, buf, sizeof buf)) == 0)
            demo_die("the client closed before all %zu bytes came", TOTAL);
        demo_deliver(&t, &reader, buf, n);
    }
    int ok = t.messages == WORDS && t.recvs < WORDS;
    if (ok)
        demo_say("5 frames sent with TCP_NODELAY came out of %d recv(s); their lengths still "
                 "mark 5 messages.", t.recvs);
    frame_reader_free(&reader);
    return ok ? 0 : 1;
}
