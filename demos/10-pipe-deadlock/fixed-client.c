/*
 * Demo 10, fixed: the same command, sent as a frame to the framed remote
 * shell (bin/rsh-server), whose poll() loop reads stdout and stderr as
 * either fills. The client counts the 'O' and 'E' bytes up to the 'X' frame.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <stdlib.h>
#include <string.h>

#define USAGE "usage: 10-pipe-deadlock-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

#define COMMAND "head -c 200000 /dev/zero >&2; echo done" /* as the broken client */

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    struct frame_reader reader;
    struct rsh_answer ans;
    char request[] = "C" COMMAND;

    demo_send_frame(&t, conn, request, strlen(request)); /* 'C' + command */
    frame_reader_init(&reader, RSH_MAX_REPLY);
    demo_rsh_answer(&t, conn, &reader, 65536, &ans); /* until the 'X' frame */
    frame_reader_free(&reader);
    demo_message(&t, ans.out, ans.out_len); /* the command's whole stdout */
    demo_fact("client", "stdout_bytes", "%zu", ans.out_len);
    demo_fact("client", "stderr_bytes", "%zu", ans.err_len); /* 200000 zero bytes: counted */
    demo_fact("client", "exit_status", "%d", ans.status);
    int ok = ans.err_len == 200000 && ans.status == 0;
    if (ok)
        demo_say("client", "All 200000 bytes of stderr and all of stdout arrived, and the "
                           "command ended with status 0: a server that reads whichever pipe "
                           "has data never leaves the command blocked on a full one.");
    free(ans.out);
    return ok ? 0 : 1;
}
