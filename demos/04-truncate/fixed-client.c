/*
 * Demo 4, fixed: the same three commands, still read with recv(1024), sent
 * to the framed remote shell (bin/rsh-server, see solution/rsh-proto.h).
 * Every answer comes back complete, and each one is its own.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <string.h>

#define USAGE "usage: 04-truncate-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

static const char *commands[] = {DEMO_LONG_COMMAND, "echo hello", "echo world"};

/*
 * read_answer - recv(1024) until the answer's 'X' frame. Each recv returns
 * whatever has arrived: part of a frame, or several frames. The reader keeps
 * the pieces and hands out each frame once it is whole: the lesson's loop.
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
    char request[1 + 256];
    char auth_err[RSH_AUTH_ERR_LEN];

    /* the server's token first, in an 'A' frame (rsh-proto.h): it runs commands only
     * for its own user */
    if (rsh_send_auth(auth_err, conn, a.host, a.port) < 0)
        demo_die("%s", auth_err);

    frame_reader_init(&reader, RSH_MAX_REPLY);
    for (int i = 0; i < 3; i++) {
        struct rsh_answer ans = {0};
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */

        read_answer(&t, conn, &reader, &ans);
        demo_message(&t, ans.out, ans.out_len); /* the whole stdout of the command */
        demo_say("answer to %s: %zu bytes, exit status %d", demo_escape(commands[i], n, 0),
                 ans.out_len, (int)ans.status);
        rsh_answer_free(&ans);
    }
    demo_say("Each answer came whole, however many recv(1024)s it took: its length says "
             "where it ends.");
    frame_reader_free(&reader);
    return 0;
}
