/*
 * Demo 8, the request side sticks too: demo 4's server (recv(1024), run the
 * command, one send of its output) reads two commands that its client wrote
 * back to back. One recv returns both, and the shell runs them as one.
 */
#include "demo.h"
#include "shell.h"

#include <stdio.h>
#include <stdlib.h>

#define USAGE "usage: 08-request-side-server [--host ADDR] [--port N] [--full] [--sync|--live]\n" \
              "  runs every command it receives with /bin/sh -c: keep it on 127.0.0.1"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_RUNS_COMMANDS, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char cmd[1025];

    t.wait_s = DEMO_WAIT_PERSON_S; /* in class, a person types the next command */
    int commands = 0;

    /* The client writes "echo a" and "echo b" (12 bytes). A server still busy
     * with something else finds both waiting; we make sure of it (not with --live). */
    demo_wait_queued(conn, sizeof "echo a" "echo b" - 1);

    for (;;) { /* demo 4's loop, unchanged */
        size_t n = demo_recv(&t, conn, cmd, 1024); /* cmd = conn.recv(1024) */
        if (n == 0)
            break; /* the client closed */
        cmd[n] = '\0';
        commands++;
        size_t len;
        char *out = demo_run_shell(cmd, &len, NULL);
        demo_say("ran %s -> %zu bytes of output", demo_escape(cmd, n, 0), len);
        demo_send(&t, conn, out, len); /* conn.send(stdout + stderr) */
        free(out);
    }
    demo_fact("commands_run", "%d", commands);
    demo_fact("outcome", commands == 1 ? "one command: echo aecho b" : "%d commands", commands);
    if (commands == 1)
        demo_say("The client wrote two commands; one recv returned both, and the "
                 "shell ran them as one command. Requests are bytes in a stream "
                 "too: nothing marks where one send ended.");
    else
        demo_say("This time the commands came in %d recvs and ran apart: the server "
                 "read before the second one arrived. Run it again.", commands);
    return a.sync && commands != 1 ? 1 : 0;
}
