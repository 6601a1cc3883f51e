/*
 * Demo 6, one send, many recvs (拆包): the client sends 1 MiB with ONE send()
 * (data.h).
 */
#include "data.h"
#include "demo.h"

#define USAGE "usage: 06-one-send-client --port N [--host ADDR] [--full] [--sync]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    char *data = make_data();
    if (!data)
        demo_die("out of memory");

    int sync = demo_connect_sync(&a);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    /* With --full our send line is 1 MiB long and leaves in many writes: let the
     * server print its accept line first, so that no line lands inside ours. */
    demo_sync_wait(sync, N_("conn 1 accepted"));

    demo_send(&t, conn, data, SIZE); /* client.send(data): one call, 1048576 bytes */
    /* Nothing more to print: the server is still reading, and its lines must
     * not be interleaved with ours. close() lets the kernel deliver the rest. */
    close(conn);
    free(data);
    return 0;
}
