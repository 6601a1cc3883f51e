/*
 * Demo 9's text, 你好，世界, in the two encodings its programs send and check:
 * UTF-8 (3 bytes a character; Linux, the notes' lesson 000) and GBK (2 bytes
 * a character; Chinese Windows, the notes' lesson 001).
 */
#ifndef TEXTS_H
#define TEXTS_H

#include <stddef.h>

/* 你 e4 bd a0 | 好 e5 a5 bd | ， ef bc 8c | 世 e4 b8 96 | 界 e7 95 8c */
#define UTF8_TEXT u8"你好，世界"
/* 你 c4 e3 | 好 ba c3 | ， a3 ac | 世 ca c0 | 界 bd e7 */
#define GBK_TEXT "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7"

/* Connection 1 carries the UTF-8 text, connection 2 the GBK one. */
static const struct encoding {
    const char *name; /* "utf8" or "gbk", as demo_decode names them */
    const char *text;
    size_t len;       /* 15 and 10 bytes */
} encodings[] = {{"utf8", UTF8_TEXT, sizeof UTF8_TEXT - 1}, {"gbk", GBK_TEXT, sizeof GBK_TEXT - 1}};

#endif
