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

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    struct frame_reader reader;
    const unsigned char *body;
    uint32_t len;
    char buf[1024], request[16], out[64];
    size_t have = 0; /* stdout of the command being answered */
    int answers = 0, right = 0;

    for (int i = 0; i < 2; i++) { /* both commands, back to back: pipelined */
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */
    }
    frame_reader_init(&reader, RSH_MAX_REPLY);
    while (answers < 2) { /* recv(1024) until the second 'X' frame */
        size_t got = demo_recv(&t, conn, buf, sizeof buf);
        if (got == 0)
            demo_die("client", "the server closed the connection mid-answer");
        frame_reader_push(&reader, buf, got);
        while (answers < 2 && frame_reader_next(&reader, &body, &len) == FRAME_OK) {
            if (len > 1 && body[0] == RSH_STDOUT && have + len - 1 <= sizeof out) {
                memcpy(out + have, body + 1, len - 1);
                have += len - 1;
            } else if (len == 1 + RSH_STATUS_SIZE && body[0] == RSH_EXIT) {
                demo_message(&t, out, have); /* the whole answer, and its own */
                demo_say("client", "answer to \"%s\": exit status %d", commands[answers],
                         rsh_get_status(body + 1));
                right += have == 2 && !memcmp(out, expected[answers], 2);
                answers++, have = 0;
            } else {
                demo_die("client", "unexpected frame from the server: %s",
                         demo_escape(body, len, 0));
            }
        }
    }
    frame_reader_free(&reader);
    if (right == 2)
        demo_say("client", "Both commands were sent before any answer was read. Whether the "
                           "server's recv got them together or apart, the frame lengths say "
                           "where each command ends: two commands, two answers.");
    return right == 2 ? 0 : 1;
}
