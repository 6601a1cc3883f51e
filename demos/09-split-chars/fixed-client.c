/* Demo 9, fixed: the same two texts, each sent as one frame (4-byte length,
 * then the bytes). */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 09-split-chars-fixed-client --port N [--host ADDR] [--full]"

static const char utf8_text[] = u8"你好，世界";                          /* 15 bytes */
static const char gbk_text[] = "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7"; /* 10 bytes */

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    const char *texts[] = {utf8_text, gbk_text};

    for (int c = 1; c <= 2; c++) {
        int conn = demo_connect(&a, c);
        struct trace t = demo_trace("client", c, &a);
        demo_send_frame(&t, conn, texts[c - 1], strlen(texts[c - 1]));
        close(conn);
    }
    return 0;
}
