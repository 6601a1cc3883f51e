/*
 * Demo 4, truncate: the simulated SSH from the course notes. The server runs
 * each command it receives and sends the output back in one send, with
 * nothing to say how long it is.
 */
#include "demo.h"
#include "shell.h"

#include <stdlib.h>

#define USAGE "usage: 04-truncate-server [--host ADDR] [--port N] [--full] [--sync]\n" \
              "  runs every command it receives with /bin/sh -c: keep it on 127.0.0.1"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_RUNS_COMMANDS, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char cmd[1025];

    t.wait_s = DEMO_WAIT_PERSON_S; /* in class, a person types the next command */
    for (;;) {
        size_t n = demo_recv(&t, conn, cmd, 1024); /* cmd = conn.recv(1024) */
        if (n == 0)
            break; /* the client closed */
        cmd[n] = '\0';
        size_t len;
        char *out = demo_run_shell(cmd, &len, NULL);
        demo_say("ran %s -> %zu bytes of output", demo_escape(cmd, n, 0), len);
        demo_send(&t, conn, out, len); /* conn.send(stdout + stderr): no length, no end mark */
        demo_sync_post(sync, N_("the whole answer is sent"));
        free(out);
    }
    return 0;
}
