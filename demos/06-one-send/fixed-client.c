/* Demo 6, fixed: the same 1 MiB, sent as one frame (4-byte length, then the
 * bytes) with one call. */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>

#define USAGE "usage: 06-one-send-fixed-client --port N [--host ADDR] [--full]"
#define SIZE (1024 * 1024)
#define LINE 32

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    char *data = malloc(SIZE + 1); /* + 1: snprintf ends the last line with a '\0' */
    if (!data)
        demo_die("client", "out of memory");
    for (int i = 0; i < SIZE / LINE; i++)
        snprintf(data + i * LINE, LINE + 1, "one send() of 1 MiB: line %05u\n", (unsigned)(i + 1) % 100000u);

    int sync = demo_connect_sync(&a); /* as in client.c: connect after the server set its buffer */
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    demo_sync_wait(sync, "client", "conn 1 accepted"); /* as in client.c */

    demo_send_frame(&t, conn, data, SIZE); /* 00 10 00 00, then the 1 MiB: one call */
    close(conn);
    free(data);
    return 0;
}
