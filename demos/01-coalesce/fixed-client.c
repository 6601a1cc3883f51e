/* Demo 1, fixed: send "hello" and "world" as frames (4-byte length, then the bytes). */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 01-coalesce-fixed-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);

    demo_send_frame(&t, conn, DEMO_HELLO, strlen(DEMO_HELLO)); /* 00 00 00 05 h e l l o, in one send */
    demo_send_frame(&t, conn, DEMO_WORLD, strlen(DEMO_WORLD));
    return 0;
}
