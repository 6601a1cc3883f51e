/*
 * Demo 6's data: 1 MiB sent with one send(), as 32768 numbered lines of 32
 * bytes, "one send() of 1 MiB: line 00001\n" ... "line 32768\n", so the first
 * and last bytes of every recv say where in the send it is.
 */
#ifndef DATA_H
#define DATA_H

#include <stdio.h>
#include <stdlib.h>

#define SIZE (1024 * 1024) /* the send; the servers' recv(SIZE) asks for all of it */
#define LINE 32            /* bytes per numbered line */
/*
 * The receive buffer the servers ask for (struct demo_args.rcvbuf). Left
 * alone, Linux lets a receive buffer grow to megabytes while data flows, and
 * how many pieces 1 MiB makes would depend on timing; a small buffer makes
 * them many on every kernel: no recv can take out more than has arrived.
 * It is set on the listening socket before any client can connect: the
 * connection inherits it, and the window scale that follows from it is
 * fixed in the handshake.
 */
#define RCVBUF (32 * 1024)

/* make_data - the 1 MiB, malloc'd (NULL without memory). */
static inline char *make_data(void)
{
    char *data = malloc(SIZE + 1); /* + 1: snprintf ends the last line with a '\0' */
    for (int i = 0; data && i < SIZE / LINE; i++)
        snprintf(data + i * LINE, LINE + 1, "one send() of 1 MiB: line %05u\n",
                 (unsigned)(i + 1) % 100000u);
    return data;
}

#endif
