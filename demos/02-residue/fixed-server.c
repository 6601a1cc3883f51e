/* Demo 2, fixed: the same recv(1) then recv(1024). The first recv returns one
 * byte of a header, not a message; the reader keeps it until the rest comes. */
#include "demo.h"
#include "frame.h"

#define USAGE "usage: 02-residue-fixed-server [--host ADDR] [--port N] [--full]"

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

    size_t n = demo_recv(&t, conn, buf, 1); /* recv(1): one byte of a header */
    demo_deliver(&t, &reader, buf, n);
    n = demo_recv(&t, conn, buf, 1024);
    demo_deliver(&t, &reader, buf, n);

    if (t.messages == 2)
        demo_say("The first recv held part of a header, so no message was delivered "
                 "yet; with the rest, the reader delivered both, whole.");
    frame_reader_free(&reader);
    return t.messages == 2 ? 0 : 1;
}
