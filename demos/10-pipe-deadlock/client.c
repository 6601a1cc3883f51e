/*
 * Demo 10, the stdout/stderr deadlock: the client sends one command that
 * writes 200000 bytes to stderr, then "done" to stdout, and prints the answer.
 */
#include "command.h"
#include "demo.h"

#include <string.h>

#define USAGE "usage: 10-pipe-deadlock-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    char answer[1024];

    demo_send(&t, conn, COMMAND, strlen(COMMAND)); /* client.send(cmd) */
    demo_say("waiting for the answer (the course's client has no timeout)");
    demo_recv(&t, conn, answer, sizeof answer); /* data = client.recv(1024) */
    return 0;
}
