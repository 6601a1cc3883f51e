/*
 * Demo 6, fixed: the same 1 MiB as one frame, the same small receive buffer,
 * the same recv(1048576). The frame still arrives in many recvs; the reader
 * keeps every piece until the 4-byte length says the message is complete.
 */
#include "data.h"
#include "demo.h"
#include "frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 06-one-send-fixed-server [--host ADDR] [--port N] [--full] [--sync] [--rcvbuf BYTES]\n" \
              "  --rcvbuf BYTES  receive buffer to ask for (default 32768; 0: the system's own)"
#define MAX_BODY SIZE /* refuse longer frames before allocating for them */

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_WANTS_RCVBUF, 0);
    if (a.rcvbuf < 0) /* not given: the small buffer of the lesson */
        a.rcvbuf = RCVBUF; /* the same small receive buffer as server.c */
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    int conn = demo_accept(listener, 1);
    demo_sync_post(sync, N_("conn 1 accepted")); /* and nothing to print until data comes */
    struct trace t = demo_trace(1, &a);
    demo_expect_frames(&t); /* recv lines say where the headers are */

    struct frame_reader reader;
    const unsigned char *body;
    uint32_t len = 0;
    char *buf = malloc(SIZE);
    if (!buf)
        demo_die("out of memory");
    frame_reader_init(&reader, MAX_BODY);
    while (t.messages == 0) {
        size_t n = demo_recv(&t, conn, buf, SIZE); /* the same recv(1048576) */
        if (n == 0)
            demo_die("the client closed in the middle of the frame");
        if (frame_reader_push(&reader, buf, n) != FRAME_OK)
            demo_die("out of memory");
        int status = frame_reader_next(&reader, &body, &len);
        if (status == FRAME_OK)
            demo_message(&t, body, len); /* only once every byte of the frame is in */
        else if (status != FRAME_AGAIN)
            demo_die("bad frame: %s", frame_strerror(status));
    }
    demo_fact("recvs", "%d", t.recvs);

    int ok = t.recvs > 1 && len == SIZE;
    if (ok)
        demo_say("The frame still came in %d recvs; the reader joined them into one message "
                 "of %u bytes.", t.recvs, (unsigned)len);
    frame_reader_free(&reader);
    free(buf);
    return ok ? 0 : 1;
}
