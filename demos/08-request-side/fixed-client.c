/*
 * Demo 8, fixed: the same two commands, written back to back before reading
 * anything, but as frames to the framed remote shell (bin/rsh-server, see
 * solution/rsh-proto.h). Each command arrives whole and gets its own answer.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <stdlib.h>
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
    struct rsh_answer ans;
    char request[16];
    int right = 0;

    for (int i = 0; i < 2; i++) { /* both commands, back to back: pipelined */
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */
    }
    frame_reader_init(&reader, RSH_MAX_REPLY);
    for (int i = 0; i < 2; i++) {
        demo_rsh_answer(&t, conn, &reader, 1024, &ans); /* recv(1024) until its 'X' frame */
        demo_message(&t, ans.out, ans.out_len);          /* the whole answer, and its own */
        demo_say("client", "answer to \"%s\": exit status %d", commands[i], ans.status);
        right += ans.out_len == 2 && !memcmp(ans.out, expected[i], 2);
        free(ans.out);
    }
    frame_reader_free(&reader);
    if (right == 2)
        demo_say("client", "Both commands were sent before any answer was read. Whether the "
                           "server's recv got them together or apart, the frame lengths say "
                           "where each command ends: two commands, two answers.");
    return right == 2 ? 0 : 1;
}
