/*
 * Demo 9, split characters: the client sends 你好，世界 twice, each in one
 * send on its own connection: in UTF-8 on conn 1 (3 bytes a character), in
 * GBK on conn 2 (2 bytes a character: the encoding Chinese Windows uses).
 */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 09-split-chars-client --port N [--host ADDR] [--full]"

/* 你 e4 bd a0 | 好 e5 a5 bd | ， ef bc 8c | 世 e4 b8 96 | 界 e7 95 8c */
static const char utf8_text[] = u8"你好，世界";
/* 你 c4 e3 | 好 ba c3 | ， a3 ac | 世 ca c0 | 界 bd e7 */
static const char gbk_text[] = "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7";

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    const char *texts[] = {utf8_text, gbk_text};

    for (int c = 1; c <= 2; c++) {
        int conn = demo_connect(&a, c);
        struct trace t = demo_trace("client", c, &a);
        demo_send(&t, conn, texts[c - 1], strlen(texts[c - 1])); /* send(text.encode(...)) */
        close(conn);
    }
    return 0;
}
