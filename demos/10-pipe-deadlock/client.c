/*
 * Demo 10, the stdout/stderr deadlock: the client sends one command that
 * writes 200000 bytes to stderr, then "done" to stdout, and prints the answer.
 */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 10-pipe-deadlock-client --port N [--host ADDR] [--full]"

/* 200000 bytes to stderr - three times what a Linux pipe holds by default - then
 * "done\n" to stdout. */
#define COMMAND "head -c 200000 /dev/zero >&2; echo done"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    char answer[1024];

    demo_send(&t, conn, COMMAND, strlen(COMMAND)); /* client.send(cmd) */
    demo_say("client", "waiting for the answer (the course's client has no timeout)");
    demo_recv(&t, conn, answer, sizeof answer); /* data = client.recv(1024) */
    return 0;
}
