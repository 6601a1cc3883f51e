/*
 * Demo 8, fixed: the same two commands, written back to back before reading
 * anything, but as frames to the framed remote shell (bin/rsh-server, see
 * solution/rsh-proto.h). Each command arrives whole and gets its own answer.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <string.h>

#define USAGE "usage: 08-request-side-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

static const char *commands[] = {"echo a", "echo b"};
static const char *expected[] = {"a\n", "b\n"};

/*
 * read_answer - recv(1024) until the answer's 'X' frame. Each recv returns
 * whatever has arrived: part of a frame, or several frames. The reader keeps
 * the pieces and hands out each frame once it is whole: the lesson's loop
 * (as in demo 4). Both answers may come in one recv: the second one's
 * frames then wait in the reader for the next call.
 */
static void read_answer(struct trace *t, int conn, struct frame_reader *r, struct rsh_answer *ans)
{
    const unsigned char *body;
    uint32_t len;
    char buf[1024];
    int rc = FRAME_AGAIN, done = RSH_ANSWER_MORE;

    for (;;) {
        /* first the whole frames already in the reader, then recv for more */
        while (done == RSH_ANSWER_MORE && (rc = frame_reader_next(r, &body, &len)) == FRAME_OK)
            done = rsh_answer_take(ans, body, len); /* 'O', 'E', then 'X' */
        if (done == RSH_ANSWER_DONE)
            return; /* frames after the 'X' stay in the reader */
        if (done == RSH_ANSWER_ERROR)
            demo_die("%s", ans->error);
        if (rc != FRAME_AGAIN)
            demo_die_bad_frame(r, rc);
        size_t n = demo_recv(t, conn, buf, sizeof buf); /* data = client.recv(1024) */
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
    char request[16];
    int right = 0;
    char auth_err[RSH_AUTH_ERR_LEN];

    /* the server's token first, in an 'A' frame (rsh-proto.h): it runs commands only
     * for its own user */
    if (rsh_send_auth(auth_err, conn, a.host, a.port) < 0)
        demo_die("%s", auth_err);

    for (int i = 0; i < 2; i++) { /* both commands, back to back: pipelined */
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */
    }
    frame_reader_init(&reader, RSH_MAX_REPLY);
    for (int i = 0; i < 2; i++) {
        struct rsh_answer ans = {0};
        read_answer(&t, conn, &reader, &ans);   /* recv(1024) until its 'X' frame */
        demo_message(&t, ans.out, ans.out_len); /* the whole answer, and its own */
        demo_say("answer to \"%s\": exit status %d", commands[i], (int)ans.status);
        right += ans.out_len == 2 && !memcmp(ans.out, expected[i], 2);
        rsh_answer_free(&ans);
    }
    frame_reader_free(&reader);
    if (right == 2)
        demo_say("Both commands were sent before any answer was read. Whether the "
                 "server's recv got them together or apart, the frame lengths say "
                 "where each command ends: two commands, two answers.");
    return right == 2 ? 0 : 1;
}
