/*
 * Demo 7's writes, for its client and server: small words, on four
 * connections that differ only in how the client's TCP sends them.
 */
#ifndef WORDS_H
#define WORDS_H

#include <string.h>

enum { NAGLE, NODELAY, CORK, PACED, MODES };
#define WORDS 5
static const char *const words[WORDS] = {"hello", "world", "how", "are", "you"};

/* writes_of - how many of the words a connection writes: on the paced one,
 * only "hello" and "world". */
static inline int writes_of(int mode)
{
    return mode == PACED ? 2 : WORDS;
}

/* bytes_of - the bytes those writes carry: 19 ("helloworldhowareyou"), or 10. */
static inline size_t bytes_of(int mode)
{
    size_t n = 0;
    for (int i = 0; i < writes_of(mode); i++)
        n += strlen(words[i]);
    return n;
}

#endif
