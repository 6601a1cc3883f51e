/* Demo 6, fixed: the same 1 MiB (data.h), sent as one frame (4-byte length,
 * then the bytes) with one call. */
#include "data.h"
#include "demo.h"

#define USAGE "usage: 06-one-send-fixed-client --port N [--host ADDR] [--full] [--sync]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    char *data = make_data();
    if (!data)
        demo_die("out of memory");

    int sync = demo_connect_sync(&a);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    demo_sync_wait(sync, N_("conn 1 accepted")); /* as in client.c */

    demo_send_frame(&t, conn, data, SIZE); /* 00 10 00 00, then the 1 MiB: one call */
    close(conn);
    free(data);
    return 0;
}
