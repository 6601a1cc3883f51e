/*
 * Demo 4, fixed: the same three commands, still read with recv(1024), sent
 * to the framed remote shell (bin/rsh-server, see solution/rsh-proto.h).
 * Every answer comes back complete, and each one is its own.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <stdlib.h>
#include <string.h>

#define USAGE "usage: 04-truncate-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

/* The same commands as the broken client. */
#define LONG_COMMAND "awk 'BEGIN { for (i = 1; i <= 100; i++) " \
                     "printf \"line %03d of a long output\\n\", i }'"

static const char *commands[] = {LONG_COMMAND, "echo hello", "echo world"};

/* An answer: the 'O' frames of one command, up to its 'X' frame. */
struct answer {
    char *out;
    size_t len;
    int done, status;
};

/* take - use one frame of the answer. */
static void take(struct answer *ans, const unsigned char *body, uint32_t len)
{
    if (len >= 1 + RSH_STATUS_SIZE && body[0] == RSH_EXIT) {
        ans->status = rsh_get_status(body + 1);
        ans->done = 1;
    } else if (len >= 1 && body[0] == RSH_STDOUT) {
        if (!(ans->out = realloc(ans->out, ans->len + len)))
            demo_die("client", "out of memory");
        memcpy(ans->out + ans->len, body + 1, len - 1);
        ans->len += len - 1;
    } else if (len >= 1 && body[0] == RSH_ERROR) {
        demo_die("client", "server error: %.*s", (int)len - 1, (const char *)body + 1);
    } /* 'E': these commands write nothing to stderr */
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    struct frame_reader reader;
    const unsigned char *body;
    uint32_t len;
    char buf[1024], request[1 + 256];

    frame_reader_init(&reader, RSH_MAX_REPLY);
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */

        struct answer ans = {NULL, 0, 0, 0};
        while (!ans.done) { /* recv(1024) until this command's 'X' frame */
            size_t got = demo_recv(&t, conn, buf, sizeof buf);
            if (got == 0)
                demo_die("client", "the server closed the connection mid-answer");
            frame_reader_push(&reader, buf, got);
            while (!ans.done && frame_reader_next(&reader, &body, &len) == FRAME_OK)
                take(&ans, body, len);
        }
        demo_message(&t, ans.out, ans.len); /* the whole stdout of the command */
        demo_say("client", "answer to %s: %zu bytes, exit status %d", demo_escape(commands[i], n, 0),
                 ans.len, ans.status);
        free(ans.out);
    }
    demo_say("client", "Each answer was read with recv(1024) - several recvs for the long one - "
                       "and delivered whole: the frame lengths say where each answer ends.");
    frame_reader_free(&reader);
    return 0;
}
