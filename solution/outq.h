/*
 * outq.h - an output queue of frames for a non-blocking socket: the bytes a
 * program has to send and the socket has not taken yet. Used by rsh-server
 * (one queue per client) and rsh-client (its commands).
 *
 * A non-blocking send() may take only part of the queue, even part of a
 * frame; the rest stays queued and the peer's frame reader joins the pieces.
 * Every frame here is typed: u32 length L (big-endian), then a type byte
 * and L - 1 bytes of payload (rsh-proto.h).
 */
#ifndef OUTQ_H
#define OUTQ_H

#include <stddef.h>
#include <sys/types.h>

struct outq {
    unsigned char *buf; /* queued bytes live in buf[start..end) */
    size_t cap, start, end;
    size_t partial;     /* bytes of the frame at start not sent yet; 0: start is a boundary */
    int blocked;        /* the last send() found the socket full: wait for POLLOUT */
};

/* outq_len - bytes queued and not yet sent. */
size_t outq_len(const struct outq *q);

/* outq_put_frame - queue one frame: type, then n bytes of payload. Returns 0, or -1 (ENOMEM). */
int outq_put_frame(struct outq *q, char type, const void *payload, size_t n);

/*
 * outq_read_frame - one read() of up to max bytes from fd (a pipe), queued
 * as one frame of that type; the bytes go straight behind the header, so
 * they are copied once. Returns the byte count, 0 at EOF (nothing queued),
 * or -1 with errno (EAGAIN: nothing to read now; ENOMEM).
 */
ssize_t outq_read_frame(struct outq *q, char type, int fd, size_t max);

/*
 * outq_send - send as much as the socket takes now (MSG_NOSIGNAL). Returns
 * the bytes sent (0 when the socket is full: q->blocked is then set), or -1
 * with errno (EPIPE, ECONNRESET: the peer is gone).
 */
ssize_t outq_send(struct outq *q, int fd);

/*
 * outq_cut - drop every queued frame not begun yet; the one being sent is
 * kept whole. A peer has a part of that frame already: a frame cut inside
 * would leave it waiting for bytes that never come, or reading the next
 * frame's bytes as the rest. What is queued after a cut follows at a boundary.
 */
void outq_cut(struct outq *q);

/* outq_free - release the buffer; the queue is empty and usable again. */
void outq_free(struct outq *q);

#endif
