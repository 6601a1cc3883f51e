/* Demo 9, fixed: the same two texts, each sent as one frame (4-byte length,
 * then the bytes). */
#include "demo.h"
#include "texts.h"

#define USAGE "usage: 09-split-chars-fixed-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);

    for (int c = 1; c <= 2; c++) {
        const struct encoding *e = &encodings[c - 1];
        int conn = demo_connect(&a, c);
        struct trace t = demo_trace(c, &a);
        demo_send_frame(&t, conn, e->text, e->len);
        close(conn);
    }
    return 0;
}
