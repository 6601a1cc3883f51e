/*
 * Demo 10, fixed: the same command, sent as a frame to the framed remote
 * shell (bin/rsh-server), whose poll() loop reads stdout and stderr as
 * either fills. The client counts the 'O' and 'E' bytes up to the 'X' frame.
 */
#include "demo.h"
#include "rsh-proto.h"

#include "command.h"

#include <string.h>

#define USAGE "usage: 10-pipe-deadlock-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

/*
 * read_answer - recv(65536) until the answer's 'X' frame (demo 4's loop, with
 * a bigger buffer: 200000 bytes in 1024-byte recvs would be 200 lines).
 */
static void read_answer(struct trace *t, int conn, struct frame_reader *r, struct rsh_answer *ans,
                        int frames[256])
{
    const unsigned char *body;
    uint32_t len;
    static char buf[65536];
    int rc = FRAME_AGAIN, done = RSH_ANSWER_MORE;

    for (;;) {
        /* first the whole frames already in the reader, then recv for more */
        while (done == RSH_ANSWER_MORE && (rc = frame_reader_next(r, &body, &len)) == FRAME_OK) {
            if (len > 0)
                frames[body[0]]++; /* counted by type, to say it in one line */
            done = rsh_answer_take(ans, body, len); /* 'O', 'E', then 'X' */
        }
        if (done == RSH_ANSWER_DONE)
            return; /* frames after the 'X' stay in the reader */
        if (done == RSH_ANSWER_ERROR)
            demo_die("%s", ans->error);
        if (rc != FRAME_AGAIN)
            demo_die_bad_frame(r, rc);
        size_t n = demo_recv(t, conn, buf, sizeof buf); /* data = client.recv(65536) */
        if (n == 0 && t->rcvd == 0)
            demo_die("the server closed the connection without a byte: is it bin/rsh-server? "
                     "(this client sends frames)");
        if (n == 0)
            demo_die("the server closed the connection mid-answer");
        if (frame_reader_push(r, buf, n) != FRAME_OK)
            demo_die("out of memory");
    }
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    struct frame_reader reader;
    struct rsh_answer ans = {0};
    char request[] = "C" COMMAND;
    char auth_err[RSH_AUTH_ERR_LEN];

    /* the server's token first, in an 'A' frame (rsh-proto.h): it runs commands only
     * for its own user */
    if (rsh_send_auth(auth_err, conn, a.host, a.port) < 0)
        demo_die("%s", auth_err);

    int frames[256] = {0};

    demo_expect_frames(&t); /* recv lines say where the headers are */
    demo_send_frame(&t, conn, request, strlen(request)); /* 'C' + command */
    frame_reader_init(&reader, RSH_MAX_REPLY);
    read_answer(&t, conn, &reader, &ans, frames); /* until the 'X' frame */
    frame_reader_free(&reader);
    demo_say("%d recvs: %d 'E' frames (%zu bytes of stderr), %d 'O' (%zu of stdout), then 'X'",
             t.recvs, frames['E'], ans.err_len, frames['O'], ans.out_len);
    demo_message(&t, ans.out, ans.out_len); /* the command's whole stdout */
    demo_fact("stdout_bytes", "%zu", ans.out_len);
    demo_fact("stderr_bytes", "%zu", ans.err_len); /* 200000 zero bytes: counted */
    demo_fact("exit_status", "%d", (int)ans.status);
    int ok = ans.err_len == STDERR_BYTES && ans.status == 0;
    if (ok)
        demo_say("All %d bytes of stderr and all of stdout arrived, and the "
                 "command ended with status 0: a server that reads whichever pipe "
                 "has data never leaves the command blocked on a full one.", STDERR_BYTES);
    rsh_answer_free(&ans);
    return ok ? 0 : 1;
}
