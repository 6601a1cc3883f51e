/* Demo 1, fixed: the same two sends, now as frames. One recv still returns
 * the bytes of both; the frame reader hands out two messages. */
#include "demo.h"
#include "frame.h"

#define USAGE "usage: 01-coalesce-fixed-server [--host ADDR] [--port N] [--full]"

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
    demo_wait_queued(conn, 2 * FRAME_HEADER_SIZE + DEMO_WORDS_SIZE); /* both frames are here */

    size_t n = demo_recv(&t, conn, buf, sizeof buf); /* the same recv(1024) */
    demo_deliver(&t, &reader, buf, n);              /* every whole frame in those bytes */

    if (t.messages == 2)
        demo_say("One recv returned both frames (%zu bytes); the 4-byte lengths told "
                 "the reader where each message ends: two messages.", n);
    frame_reader_free(&reader);
    return t.messages == 2 ? 0 : 1;
}
