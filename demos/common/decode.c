/* decode.c - is this UTF-8 or GBK text? (see decode.h) */
#include "decode.h"
#include "demo.h"

#include <stdio.h>
#include <string.h>

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

int demo_decode(const char *encoding, const char *name, const char *label, const void *buf,
                size_t n)
{
    const unsigned char *p = buf;
    int utf8 = strcmp(encoding, "utf8") == 0;
    const char *shown = utf8 ? "UTF-8" : "GBK";
    long bad = utf8 ? utf8_bad_at(p, n) : gbk_bad_at(p, n);
    char fact[64];

    snprintf(fact, sizeof fact, "%s_%s", name, encoding);
    demo_fact(fact, "%s", bad < 0 ? "valid" : "invalid");
    if (bad >= 0) {
        snprintf(fact, sizeof fact, "%s_%s_bad_at", name, encoding);
        demo_fact(fact, "%ld", bad);
        demo_say("%s: not %s, it breaks at byte %ld (0x%02x)", label, shown, bad, p[bad]);
    } else if (utf8) { /* the terminal speaks UTF-8: show the text */
        demo_say("%s: valid %s: %.*s", label, shown, (int)n, (const char *)p);
    } else {
        demo_say("%s: valid %s (not shown: the terminal speaks UTF-8)", label, shown);
    }
    return bad < 0;
}
