/* outq.c - an output queue of typed frames for a non-blocking socket (see outq.h). */
#include "outq.h"
#include "frame.h"
#include "net.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TYPED_HEADER (FRAME_HEADER_SIZE + 1) /* the length, then the type byte */

size_t outq_len(const struct outq *q)
{
    return q->end - q->start;
}

/* reserve - room for n more bytes at buf + end. Returns 0, or -1 (ENOMEM).
 * Sliding the unsent bytes down first keeps the buffer near its bound. */
static int reserve(struct outq *q, size_t n)
{
    size_t cap;
    unsigned char *p;

    if (q->start > 0 && q->cap - q->end < n) {
        memmove(q->buf, q->buf + q->start, q->end - q->start);
        q->end -= q->start;
        q->start = 0;
    }
    if (q->cap - q->end >= n)
        return 0;
    for (cap = q->cap ? q->cap : 4096; cap - q->end < n; cap *= 2)
        ;
    if ((p = realloc(q->buf, cap)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    q->buf = p;
    q->cap = cap;
    return 0;
}

/* put_header - the length (type byte + n) and the type, at buf + end. */
static void put_header(struct outq *q, char type, size_t n)
{
    frame_put_length(q->buf + q->end, (uint32_t)(1 + n));
    q->buf[q->end + FRAME_HEADER_SIZE] = (unsigned char)type;
}

int outq_put_frame(struct outq *q, char type, const void *payload, size_t n)
{
    if (reserve(q, TYPED_HEADER + n) < 0)
        return -1;
    put_header(q, type, n);
    if (n > 0)
        memcpy(q->buf + q->end + TYPED_HEADER, payload, n);
    q->end += TYPED_HEADER + n;
    return 0;
}

ssize_t outq_read_frame(struct outq *q, char type, int fd, size_t max)
{
    ssize_t n;

    if (reserve(q, TYPED_HEADER + max) < 0)
        return -1;
    do
        n = read(fd, q->buf + q->end + TYPED_HEADER, max);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n;
    put_header(q, type, (size_t)n);
    q->end += TYPED_HEADER + (size_t)n;
    return n;
}

/* advance - n bytes were sent: move start, and keep partial up to date.
 * Only whole frames are queued, so the header of the next frame is always
 * in the buffer, even when send() took only part of it. */
static void advance(struct outq *q, size_t n)
{
    while (n > 0) {
        size_t k;
        if (q->partial == 0)
            q->partial = FRAME_HEADER_SIZE + frame_get_length(q->buf + q->start);
        k = n < q->partial ? n : q->partial;
        q->partial -= k;
        q->start += k;
        n -= k;
    }
}

ssize_t outq_send(struct outq *q, int fd)
{
    size_t sent = 0;

    while (q->end > q->start) {
        ssize_t n = send(fd, q->buf + q->start, q->end - q->start, NET_SEND_FLAGS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            q->blocked = 1;
            break;
        }
        if (n < 0)
            return -1;
        advance(q, (size_t)n);
        sent += (size_t)n;
    }
    if (q->start == q->end)
        q->start = q->end = 0;
    return (ssize_t)sent;
}

void outq_cut(struct outq *q)
{
    q->end = q->start + q->partial;
    if (q->start == q->end)
        q->start = q->end = 0;
}

void outq_free(struct outq *q)
{
    free(q->buf);
    memset(q, 0, sizeof *q);
}
