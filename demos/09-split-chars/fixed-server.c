/*
 * Demo 9, fixed: the same texts as frames, read with the same recv(7). The
 * recvs still cut characters in two; the server decodes only whole messages,
 * which the frame reader hands out once the 4-byte length says they are complete.
 */
#include "demo.h"
#include "frame.h"

#include <stdio.h>

#define USAGE "usage: 09-split-chars-fixed-server [--host ADDR] [--port N] [--full]"
#define ASK 7

/* utf8_bad_at - offset of the first character that is cut off or malformed,
 * or -1 if every byte belongs to a whole character. Strict, as Python's
 * decoder: no overlong forms, no surrogates, nothing above U+10FFFF. */
static long utf8_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i], lo = 0x80, hi = 0xbf; /* allowed range of byte 2 */
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > n)
            return (long)i; /* a byte that starts no character, or a character cut off */
        lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : lo; /* overlong forms */
        hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : hi; /* surrogates, above U+10FFFF */
        for (size_t k = 1; k < len; k++)
            if (p[i + k] < (k == 1 ? lo : 0x80) || p[i + k] > (k == 1 ? hi : 0xbf))
                return (long)i;
        i += len;
    }
    return -1;
}

/* gbk_bad_at - the same for GBK's structure: a byte below 0x80 is a character
 * by itself; a lead byte 0x81-0xfe needs a trail byte 0x40-0xfe (not 0x7f).
 * It does not know which pairs GBK leaves unassigned. */
static long gbk_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80)
            continue;
        if (p[i] == 0x80 || p[i] == 0xff || i + 1 == n || p[i + 1] < 0x40 || p[i + 1] == 0x7f
            || p[i + 1] == 0xff)
            return (long)i;
        i++; /* the trail byte */
    }
    return -1;
}

static const struct encoding {
    const char *name, *shown; /* fact name, name for people */
    long (*bad_at)(const unsigned char *, size_t);
    size_t len; /* what the client sends: 15 and 10 bytes, + 4 for the length */
} encodings[] = {{"utf8", "UTF-8", utf8_bad_at, 15}, {"gbk", "GBK", gbk_bad_at, 10}};

/* decode - decode p on its own, as data.decode() does: print a fact line
 * (named name) and a line for people (about label). Returns 1 if valid. */
static int decode(const struct encoding *e, const char *name, const char *label,
                  const unsigned char *p, size_t n)
{
    long bad = e->bad_at(p, n);
    printf("server | fact | %s_%s = %s\n", name, e->name, bad < 0 ? "valid" : "invalid");
    if (bad >= 0) {
        printf("server | fact | %s_%s_bad_at = %ld\n", name, e->name, bad);
        demo_say("server", "%s: not %s, it breaks at byte %ld (0x%02x)", label, e->shown, bad,
                 p[bad]);
    } else if (e->bad_at == utf8_bad_at) { /* the terminal speaks UTF-8: show the text */
        demo_say("server", "%s: valid %s: %.*s", label, e->shown, (int)n, (const char *)p);
    } else {
        demo_say("server", "%s: valid %s (not shown: the terminal speaks UTF-8)", label, e->shown);
    }
    return bad < 0;
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int whole = 0;

    for (int c = 0; c < 2; c++) {
        const struct encoding *e = &encodings[c];
        int conn = demo_accept(listener, c + 1);
        struct trace t = demo_trace("server", c + 1, &a);
        struct frame_reader reader;
        const unsigned char *body;
        uint32_t len;
        unsigned char buf[ASK];

        frame_reader_init(&reader, 1024);
        demo_wait_queued(&t, conn, FRAME_HEADER_SIZE + e->len); /* as in server.c */
        while (t.messages == 0) {
            size_t n = demo_recv(&t, conn, buf, ASK); /* the same recv(7) */
            if (n == 0)
                demo_die("server", "the client closed in the middle of a frame");
            if (frame_reader_push(&reader, buf, n) != FRAME_OK)
                demo_die("server", "out of memory");
            int status = frame_reader_next(&reader, &body, &len);
            if (status == FRAME_OK) {
                demo_message(&t, body, len);
                whole += decode(e, "message", "message #1", body, len); /* only now */
            } else if (status == FRAME_AGAIN) {
                demo_say("server", "%zu bytes of an unfinished frame wait in the reader; "
                                   "nothing is decoded yet", frame_reader_pending(&reader));
            } else {
                demo_die("server", "bad frame: %s", frame_strerror(status));
            }
        }
        frame_reader_free(&reader);
        close(conn);
    }
    if (whole == 2)
        demo_say("server", "Nothing was decoded until a whole message was in: both messages "
                           "are valid text.");
    return whole == 2 ? 0 : 1;
}
