/*
 * Demo 9, split characters: the client sends 你好，世界 twice, each in one
 * send on its own connection: in UTF-8 on conn 1, in GBK on conn 2 (texts.h).
 */
#include "demo.h"
#include "texts.h"

#define USAGE "usage: 09-split-chars-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);

    for (int c = 1; c <= 2; c++) {
        const struct encoding *e = &encodings[c - 1];
        int conn = demo_connect(&a, c);
        struct trace t = demo_trace(c, &a);
        demo_send(&t, conn, e->text, e->len); /* send(text.encode(...)) */
        close(conn);
    }
    return 0;
}
