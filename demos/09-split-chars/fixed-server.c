/*
 * Demo 9, fixed: the same texts as frames, read with the same recv(7). The
 * recvs still cut characters in two; the server decodes only whole messages,
 * which the frame reader hands out once the 4-byte length says they are complete.
 */
#include "decode.h"
#include "demo.h"
#include "texts.h"
#include "frame.h"

#include <stdio.h>

#define USAGE "usage: 09-split-chars-fixed-server [--host ADDR] [--port N] [--full]"
#define ASK 7

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int whole = 0;

    for (int c = 0; c < 2; c++) {
        const struct encoding *e = &encodings[c];
        int conn = demo_accept(listener, c + 1);
        struct trace t = demo_trace(c + 1, &a);
        demo_expect_frames(&t); /* recv lines say where the headers are */
        struct frame_reader reader;
        const unsigned char *body;
        uint32_t len;
        unsigned char buf[ASK];

        frame_reader_init(&reader, 1024);
        demo_wait_queued(conn, FRAME_HEADER_SIZE + e->len); /* as in server.c */
        while (t.messages == 0) {
            size_t n = demo_recv(&t, conn, buf, ASK); /* the same recv(7) */
            if (n == 0)
                demo_die("the client closed in the middle of a frame");
            if (frame_reader_push(&reader, buf, n) != FRAME_OK)
                demo_die("out of memory");
            int status = frame_reader_next(&reader, &body, &len);
            if (status == FRAME_OK) {
                demo_message(&t, body, len);
                whole += demo_decode(e->name, "message", demo_tr(N_("message #1")), body, len); /* only now */
            } else if (status == FRAME_AGAIN) {
                demo_say("%zu bytes of an unfinished frame wait in the reader; "
                         "nothing is decoded yet", frame_reader_pending(&reader));
            } else {
                demo_die("bad frame: %s", frame_strerror(status));
            }
        }
        frame_reader_free(&reader);
        close(conn);
    }
    if (whole == 2)
        demo_say("Nothing was decoded until a whole message was in: both messages "
                 "are valid text.");
    return whole == 2 ? 0 : 1;
}
