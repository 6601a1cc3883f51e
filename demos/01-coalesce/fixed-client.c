/* Demo 1, fixed: send "hello" and "world" as frames (4-byte length, then the bytes). */
#include "demo.h"

#define USAGE "usage: 01-coalesce-fixed-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);

    demo_send_frame(&t, conn, "hello", 5); /* 00 00 00 05 h e l l o, in one send */
    demo_send_frame(&t, conn, "world", 5);
    return 0;
}
