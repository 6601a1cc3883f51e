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

static const char *commands[] = {DEMO_LONG_COMMAND, "echo hello", "echo world"};

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    struct frame_reader reader;
    struct rsh_answer ans;
    char request[1 + 256];

    frame_reader_init(&reader, RSH_MAX_REPLY);
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(commands[i]);
        request[0] = RSH_COMMAND;
        memcpy(request + 1, commands[i], n);
        demo_send_frame(&t, conn, request, 1 + n); /* 'C' + command, with its length */

        demo_rsh_answer(&t, conn, &reader, 1024, &ans); /* recv(1024) until its 'X' frame */
        demo_message(&t, ans.out, ans.out_len);          /* the whole stdout of the command */
        demo_say("client", "answer to %s: %zu bytes, exit status %d", demo_escape(commands[i], n, 0),
                 ans.out_len, ans.status);
        free(ans.out);
    }
    demo_say("client", "Each answer was read with recv(1024) - several recvs for the long one - "
                       "and delivered whole: the frame lengths say where each answer ends.");
    frame_reader_free(&reader);
    return 0;
}
