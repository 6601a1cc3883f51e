/*
 * Demo 8, the request side sticks too: the client writes two commands back
 * to back, then reads. The server reads them with one recv(1024) and runs
 * "echo aecho b": one answer, "aecho b\n", and none for the second command.
 */
#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 08-request-side-client --port N [--host ADDR] [--full] [--sync|--live]"
#define MERGED "aecho b\n" /* what sh -c prints for "echo aecho b" */

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    char answer[1024];

    demo_send(&t, conn, "echo a", strlen("echo a")); /* client.send(b"echo a") */
    demo_pause_between_sends(&a);                    /* none (--live: up to 2 ms) */
    demo_send(&t, conn, "echo b", strlen("echo b")); /* client.send(b"echo b"), without waiting */
    demo_fact("commands_sent", "%d", 2);

    size_t first = demo_recv(&t, conn, answer, sizeof answer); /* data = client.recv(1024) */
    int merged = first == strlen(MERGED) && !memcmp(answer, MERGED, first);
    demo_say("the answer to \"echo a\" is %s", demo_escape(answer, first, 1));

    /* "No more commands" (a half-close), then read on: had the server run two
     * commands, the answer to "echo b" would come now, before the end of the stream. */
    shutdown(conn, SHUT_WR);
    size_t second = demo_recv(&t, conn, answer, sizeof answer);
    if (second)
        demo_say("the answer to \"echo b\": more bytes");
    else
        demo_say("the answer to \"echo b\": none, the server closed");
    while (second > 0 && demo_recv(&t, conn, answer, sizeof answer) > 0)
        ; /* until the end of the stream */

    if (merged && second == 0)
        demo_say("Two commands, one answer: \"aecho b\\n\" is what the shell prints for "
                 "\"echo aecho b\". The two sends reached the server as one request.");
    return a.sync && !(merged && second == 0) ? 1 : 0;
}
