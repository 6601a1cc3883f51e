/*
 * Demo 5, fixed: the same server, with a portable header (4 bytes, unsigned,
 * big-endian) sent together with stdout and stderr in one system call.
 */
#include "demo.h"
#include "timing.h"
#include "shell.h"

#include <stdlib.h>

#define USAGE "usage: 05-course-fix-fixed-server [--host ADDR] [--port N] [--full] [--sync]\n" \
              "  runs every command it receives with /bin/sh -c: keep it on 127.0.0.1"

static void serve(struct trace *t, int conn);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_RUNS_COMMANDS, 0);

    serve_clients(&a, serve); /* one client after another, as server.c */
    return 0;
}

/* serve - server.c's loop, each answer one frame: header and body in one call. */
static void serve(struct trace *t, int conn)
{
    char cmd[1025];

    t->wait_s = DEMO_WAIT_PERSON_S; /* in class, a person types the next command */
    for (;;) {
        size_t n = demo_recv(t, conn, cmd, 1024);
        if (n == 0)
            return;
        cmd[n] = '\0';
        size_t len;
        char *out = demo_run_shell(cmd, &len, NULL); /* stdout, then stderr */
        demo_send_frame(t, conn, out, len); /* header + body: one sendmsg, nothing for Nagle to hold */
        free(out);
    }
}
