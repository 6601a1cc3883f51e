/*
 * decode.h - is this text? Decode bytes on their own, as Python's
 * data.decode(...) does, for demo 9 (a recv that cuts a character in two).
 */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>

/*
 * demo_decode - decode n bytes in "utf8" (strict, as Python) or "gbk" (its
 * lead/trail-byte structure): print the fact lines NAME_ENCODING =
 * valid|invalid and NAME_ENCODING_bad_at = OFFSET, and a line for people
 * about LABEL. Returns 1 if the bytes are whole text.
 */
int demo_decode(const char *encoding, const char *name, const char *label, const void *buf,
                size_t n);

#endif
