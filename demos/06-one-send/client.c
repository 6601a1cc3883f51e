/*
 * Demo 6, one send, many recvs (拆包): the client sends 1 MiB with ONE send().
 * The data is 32768 numbered lines of 32 bytes, so the first and last bytes
 * of every recv say where in the send it is.
 */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>

#define USAGE "usage: 06-one-send-client --port N [--host ADDR] [--full]"
#define SIZE (1024 * 1024) /* 1 MiB = 32768 lines of 32 bytes */
#define LINE 32

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    char *data = malloc(SIZE + 1); /* + 1: snprintf ends the last line with a '\0' */
    if (!data)
        demo_die("client", "out of memory");
    for (int i = 0; i < SIZE / LINE; i++)
        snprintf(data + i * LINE, LINE + 1, "one send() of 1 MiB: line %05u\n", (unsigned)(i + 1) % 100000u);

    /* Connect only once the server has set its receive buffer (a [sync] step
     * that prints nothing: see server.c). */
    int sync = demo_connect_sync(&a);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    /* With --full our send line is 1 MiB long and leaves in many writes: let the
     * server print its accept line first, so that no line lands inside ours. */
    demo_sync_wait(sync, "client", "conn 1 accepted");

    demo_send(&t, conn, data, SIZE); /* client.send(data): one call, 1048576 bytes */
    /* Nothing more to print: the server is still reading, and its lines must
     * not be interleaved with ours. close() lets the kernel deliver the rest. */
    close(conn);
    free(data);
    return 0;
}
