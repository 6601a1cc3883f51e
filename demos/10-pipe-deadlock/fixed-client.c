/*
 * Demo 10, fixed: the same command, sent as a frame to the framed remote
 * shell (bin/rsh-server), whose poll() loop reads stdout and stderr as
 * either fills. The client counts the 'O' and 'E' bytes up to the 'X' frame.
 */
#include "demo.h"
#include "rsh-proto.h"

#include <stdio.h>
#include <string.h>

#define USAGE "usage: 10-pipe-deadlock-fixed-client --port N [--host ADDR] [--full]\n" \
              "  talks to bin/rsh-server"

#define COMMAND "head -c 200000 /dev/zero >&2; echo done" /* as the broken client */

static void fact(const char *name, long value)
{
    printf("client | fact | %s = %ld\n", name, value);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    struct frame_reader reader;
    const unsigned char *body;
    uint32_t len;
    static char buf[65536];
    char request[] = "C" COMMAND, out[64];
    size_t out_len = 0;
    long err_len = 0, status = 0;
    int done = 0;

    demo_send_frame(&t, conn, request, strlen(request)); /* 'C' + command */
    frame_reader_init(&reader, RSH_MAX_REPLY);
    while (!done) { /* until the 'X' frame */
        size_t got = demo_recv(&t, conn, buf, sizeof buf);
        if (got == 0)
            demo_die("client", "the server closed the connection mid-answer");
        frame_reader_push(&reader, buf, got);
        while (!done && frame_reader_next(&reader, &body, &len) == FRAME_OK) {
            if (len > 1 && body[0] == RSH_STDOUT && out_len + len - 1 <= sizeof out) {
                memcpy(out + out_len, body + 1, len - 1);
                out_len += len - 1;
            } else if (len > 1 && body[0] == RSH_STDERR) {
                err_len += len - 1; /* 200000 zero bytes: counted, not shown */
            } else if (len == 1 + RSH_STATUS_SIZE && body[0] == RSH_EXIT) {
                status = rsh_get_status(body + 1);
                done = 1;
            } else {
                demo_die("client", "unexpected frame: %s", demo_escape(body, len, 0));
            }
        }
    }
    frame_reader_free(&reader);
    demo_message(&t, out, out_len); /* the command's whole stdout */
    fact("stdout_bytes", (long)out_len);
    fact("stderr_bytes", err_len);
    fact("exit_status", status);
    int ok = err_len == 200000 && status == 0;
    if (ok)
        demo_say("client", "All 200000 bytes of stderr and all of stdout arrived, and the "
                           "command ended with status 0: a server that reads whichever pipe "
                           "has data never leaves the command blocked on a full one.");
    return ok ? 0 : 1;
}
