/*
 * frame.c - length-prefixed frames over a TCP byte stream (see frame.h).
 *
 * Everything here guards against one fact: the kernel moves bytes, not
 * messages. A read may return fewer bytes than asked, a write may take fewer
 * than given, and either may be cut short by a signal. Each function loops
 * until the job is done, or returns an error; none prints or exits.
 */

/* macOS hides SO_NOSIGPIPE when _POSIX_C_SOURCE is defined; ask for it. */
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE
#endif

#include "frame.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PARTS 8             /* send_framev: frame.h promises at most 8 pieces */
#define FILL_CHUNK (64 * 1024)  /* frame_reader_fill asks the kernel for up to this much */
#define MIN_CAP 1024            /* the reader's first allocation */

/*
 * SIGPIPE. Writing to a socket whose peer has gone raises SIGPIPE, and its
 * default action kills the process: one client that disconnects at the wrong
 * moment would take a whole server down. We want the write to fail with
 * EPIPE instead. Linux and the BSDs take MSG_NOSIGNAL on each send
 * (NET_SEND_FLAGS); macOS only has the per-socket option SO_NOSIGPIPE. On a
 * system with neither, and always for write() to a pipe, the program must
 * ignore SIGPIPE itself: signal(SIGPIPE, SIG_IGN).
 */

/* no_sigpipe - without MSG_NOSIGNAL, set SO_NOSIGPIPE on fd where it exists. */
static void no_sigpipe(int fd)
{
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
    int on = 1;

    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on); /* fails on a pipe: fine */
#else
    (void)fd;
#endif
}

/* frame_strerror - a short English phrase for a frame_status code. */
const char *frame_strerror(int status)
{
    switch (status) {
    case FRAME_OK:        return "ok";
    case FRAME_AGAIN:     return "no complete frame yet";
    case FRAME_EOF:       return "peer closed the connection";
    case FRAME_TRUNCATED: return "peer closed in the middle of a frame";
    case FRAME_TOO_BIG:   return "frame length above the limit";
    case FRAME_SYS:       return "system call failed";
    case FRAME_NOMEM:     return "out of memory";
    default:              return "unknown frame status";
    }
}

/*
 * frame_put_length - write len into out[0..3], big-endian (what htonl does).
 * Shifts give the same bytes on every machine; copying the uint32_t itself
 * would send the host's byte order.
 */
void frame_put_length(unsigned char out[FRAME_HEADER_SIZE], uint32_t len)
{
    out[0] = (unsigned char)(len >> 24);
    out[1] = (unsigned char)(len >> 16);
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
}

/* frame_get_length - read a big-endian length from in[0..3]. */
uint32_t frame_get_length(const unsigned char in[FRAME_HEADER_SIZE])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
           (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

/*
 * read_exact - read exactly n bytes, looping over short reads and EINTR.
 * A read returns whatever has arrived so far, which may be one byte of a
 * megabyte send; only the loop knows how many are still owed.
 */
ssize_t read_exact(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);

        if (k > 0)
            got += (size_t)k;
        else if (k == 0)
            break;              /* EOF: the peer closed; report the short count */
        else if (errno != EINTR)
            return -1;
        /* EINTR: a signal came before any byte did; read again */
    }
    return (ssize_t)got;
}

/*
 * write_all - write all n bytes, looping over short writes and EINTR.
 * A send may take only part of the buffer when the socket buffer is full or
 * a signal arrives after some bytes went out; the loop sends the rest.
 * send() is used so MSG_NOSIGNAL applies; on a pipe or a file send() fails
 * with ENOTSOCK and write() does the same job.
 */
int write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    int is_socket = 1;

    no_sigpipe(fd);
    while (n > 0) {
        ssize_t k = is_socket ? send(fd, p, n, NET_SEND_FLAGS) : write(fd, p, n);

        if (k < 0) {
            if (errno == EINTR)
                continue;       /* interrupted before any byte went out */
            if (errno == ENOTSOCK && is_socket) {
                is_socket = 0;  /* not a socket: use write() from now on */
                continue;
            }
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/*
 * send_all_iov - send every byte that iov[0..cnt) describes. Returns 0, or
 * -1 with errno. The array is updated as bytes go out.
 *
 * The kernel may take only part, even in the middle of a piece (a full
 * socket buffer, or a signal after some bytes were queued). Then we drop
 * the pieces that went out whole, move the start of the next one past its
 * sent bytes, and call again.
 */
static int send_all_iov(int fd, struct iovec *iov, int cnt)
{
    int is_socket = 1;

    no_sigpipe(fd);
    while (cnt > 0) {
        ssize_t n;

        if (is_socket) {
            struct msghdr msg;

            memset(&msg, 0, sizeof msg);
            msg.msg_iov = iov;
            msg.msg_iovlen = cnt;
            n = sendmsg(fd, &msg, NET_SEND_FLAGS);
            if (n < 0 && errno == ENOTSOCK) {
                is_socket = 0;  /* a pipe or a file: writev() gathers the same way */
                continue;
            }
        } else {
            n = writev(fd, iov, cnt);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;       /* interrupted before any byte went out */
            return -1;
        }
        while (cnt > 0 && (size_t)n >= iov->iov_len) {     /* pieces sent whole */
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {                                      /* a piece sent in part */
            iov->iov_base = (unsigned char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/*
 * send_frame - send header and body with one system call.
 * See send_framev for why it must be one call.
 */
int send_frame(int fd, const void *body, size_t len)
{
    struct iovec part;

    part.iov_base = (void *)body;   /* iovec is not const, but sendmsg only reads it */
    part.iov_len = len;
    return send_framev(fd, &part, 1);
}

/*
 * send_framev - send a header and a body gathered from parts[0..nparts).
 * Header and body go to the kernel in one sendmsg(), so a small frame
 * leaves in one TCP segment. With a send() for each, Nagle's algorithm holds
 * the body back until the header is ACKed, and the peer delays that ACK:
 * tens of milliseconds lost per message.
 */
int send_framev(int fd, const struct iovec *parts, int nparts)
{
    unsigned char header[FRAME_HEADER_SIZE];
    struct iovec iov[1 + MAX_PARTS];
    size_t total = 0;
    int i;

    if (nparts < 0 || nparts > MAX_PARTS) {
        errno = EINVAL;
        return FRAME_SYS;
    }
    for (i = 0; i < nparts; i++) {
        if (parts[i].iov_len > UINT32_MAX - total)
            return FRAME_TOO_BIG;   /* the length would not fit in the 4-byte header */
        total += parts[i].iov_len;
        iov[1 + i] = parts[i];
    }
    frame_put_length(header, (uint32_t)total);
    iov[0].iov_base = header;
    iov[0].iov_len = sizeof header;
    return send_all_iov(fd, iov, 1 + nparts) == 0 ? FRAME_OK : FRAME_SYS;
}

/*
 * recv_frame - read one frame with blocking reads: the header, then the body.
 * On FRAME_TOO_BIG, *len holds the length the header announced.
 */
int recv_frame(int fd, void *buf, size_t cap, uint32_t *len)
{
    unsigned char header[FRAME_HEADER_SIZE];
    ssize_t n = read_exact(fd, header, sizeof header);

    if (n < 0)
        return FRAME_SYS;
    if (n == 0)
        return FRAME_EOF;           /* closed between two frames: a clean end */
    if (n < FRAME_HEADER_SIZE)
        return FRAME_TRUNCATED;     /* closed inside the header */
    *len = frame_get_length(header);
    if (*len > cap)
        return FRAME_TOO_BIG;       /* refuse on the header alone; leave the body unread */
    n = read_exact(fd, buf, *len);
    if (n < 0)
        return FRAME_SYS;
    if ((size_t)n < *len)
        return FRAME_TRUNCATED;     /* closed inside the body */
    return FRAME_OK;
}

/* frame_reader_init - an empty reader; allocates nothing yet. Returns FRAME_OK. */
int frame_reader_init(struct frame_reader *r, uint32_t max_body)
{
    r->buf = NULL;
    r->cap = 0;
    r->start = 0;
    r->end = 0;
    r->max_body = max_body;
    r->bad_length = 0;
    r->bad_known = 0;
    return FRAME_OK;
}

/* frame_reader_free - release the buffer; the reader may be init'ed again. */
void frame_reader_free(struct frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
    r->start = 0;
    r->end = 0;
}

/*
 * reader_limit - the most the buffer needs: one whole frame of the largest
 * allowed size, plus room for one recv() of what follows it.
 */
static size_t reader_limit(const struct frame_reader *r)
{
    size_t limit = (size_t)FRAME_HEADER_SIZE + FILL_CHUNK + r->max_body;

    return limit < r->max_body ? SIZE_MAX : limit;  /* wrapped: a 32-bit size_t */
}

/*
 * reader_reserve - make at least want free bytes after the buffered data.
 * First slide the partial frame to the front of the buffer; grow only if
 * that is not enough. Growth doubles, but stops at reader_limit unless the
 * data itself needs more (a push larger than any frame).
 */
static int reader_reserve(struct frame_reader *r, size_t want)
{
    size_t pending = r->end - r->start;
    size_t limit = reader_limit(r);
    size_t newcap;
    unsigned char *p;

    if (r->cap - r->end >= want)
        return FRAME_OK;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, pending);
        r->start = 0;
        r->end = pending;
        if (r->cap - r->end >= want)
            return FRAME_OK;
    }
    if (want > SIZE_MAX - pending)
        return FRAME_NOMEM;
    newcap = r->cap * 2 < MIN_CAP ? MIN_CAP : r->cap * 2;
    if (newcap < pending + want)
        newcap = pending + want;
    if (newcap > limit && limit >= pending + want)
        newcap = limit;
    p = realloc(r->buf, newcap);
    if (p == NULL)
        return FRAME_NOMEM;
    r->buf = p;
    r->cap = newcap;
    return FRAME_OK;
}

/*
 * frame_reader_push - append n bytes that arrived (as if from one recv).
 * Everything given is kept; take frames out with frame_reader_next between
 * pushes to keep the buffer small.
 */
int frame_reader_push(struct frame_reader *r, const void *data, size_t n)
{
    if (n == 0)
        return FRAME_OK;
    if (reader_reserve(r, n) != FRAME_OK)
        return FRAME_NOMEM;
    memcpy(r->buf + r->end, data, n);
    r->end += n;
    return FRAME_OK;
}

/*
 * frame_reader_fill - one read from fd into the reader's free space.
 * It asks for up to FILL_CHUNK bytes, not just the rest of the current
 * frame: whatever else has arrived (the next frames) comes in the same call.
 * read() on a socket is recv() with no flags, and it works on pipes too.
 */
ssize_t frame_reader_fill(struct frame_reader *r, int fd)
{
    size_t pending = r->end - r->start;
    size_t limit = reader_limit(r);
    size_t want = FILL_CHUNK;

    if (pending >= limit) {
        errno = ENOBUFS;        /* full of frames nobody took out with frame_reader_next */
        return -1;
    }
    if (want > limit - pending)
        want = limit - pending;
    if (reader_reserve(r, want) != FRAME_OK) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, r->buf + r->end, r->cap - r->end);

        if (n < 0 && errno == EINTR)
            continue;           /* interrupted before any byte arrived */
        if (n > 0)
            r->end += (size_t)n;
        return n;               /* bytes, 0 at EOF, or -1 (EAGAIN when non-blocking) */
    }
}

/*
 * frame_reader_next - take the next complete frame out of the buffer.
 * The length is checked as soon as its 4 bytes are here: a peer that
 * announces 4 GB is refused at once, not after we wait for (and make room
 * for) a body that may never come.
 */
int frame_reader_next(struct frame_reader *r, const unsigned char **body, uint32_t *len)
{
    size_t pending = r->end - r->start;
    unsigned char header[FRAME_HEADER_SIZE] = {0};
    int known = pending < FRAME_HEADER_SIZE ? (int)pending : FRAME_HEADER_SIZE;
    uint32_t n;

    if (known > 0)
        memcpy(header, r->buf + r->start, (size_t)known);
    n = frame_get_length(header); /* the missing bytes count as 0: the least it can be */
    if (known > 0 && n > r->max_body) {
        r->bad_length = n;
        r->bad_known = known;
        return FRAME_TOO_BIG;
    }
    if (known < FRAME_HEADER_SIZE)
        return FRAME_AGAIN;     /* not even the header yet */
    if (pending - FRAME_HEADER_SIZE < n)
        return FRAME_AGAIN;     /* the rest of the body is still on its way */
    *body = r->buf + r->start + FRAME_HEADER_SIZE;
    *len = n;
    r->start += FRAME_HEADER_SIZE + n;
    if (r->start == r->end)
        r->start = r->end = 0;  /* empty: the next bytes can go to the front */
    return FRAME_OK;
}

/* frame_reader_pending - how many buffered bytes belong to no complete frame yet. */
size_t frame_reader_pending(const struct frame_reader *r)
{
    size_t pos = r->start;

    /* skip the complete frames that frame_reader_next has not handed out yet */
    while (r->end - pos >= FRAME_HEADER_SIZE) {
        uint32_t n = frame_get_length(r->buf + pos);

        if (n > r->max_body || r->end - pos - FRAME_HEADER_SIZE < n)
            break;
        pos += FRAME_HEADER_SIZE + n;
    }
    return r->end - pos;
}

/* frame_reader_at_eof - what the peer's close means, given what is buffered. */
int frame_reader_at_eof(const struct frame_reader *r)
{
    return frame_reader_pending(r) == 0 ? FRAME_EOF : FRAME_TRUNCATED;
}

/* frame_describe_length - one line about a refused length (see frame.h). */
void frame_describe_length(char *out, size_t cap, uint32_t len, int known, uint32_t limit)
{
    unsigned char b[FRAME_HEADER_SIZE];
    const char *least = known < FRAME_HEADER_SIZE ? "at least " : "";
    char shown[FRAME_HEADER_SIZE + 1] = "";
    int text = 1;

    frame_put_length(b, len);
    for (int i = 0; i < known; i++) {
        text = text && b[i] >= 0x20 && b[i] <= 0x7e;
        shown[i] = (char)b[i];
    }
    shown[text ? known : 0] = '\0';
    if (text)
        snprintf(out, cap, "length %s%lu (bytes '%s') looks like text, not a frame header",
                 least, (unsigned long)len, shown);
    else if (b[0] == 0x16 && (known < 2 || b[1] == 0x03))
        snprintf(out, cap, "length %s%lu (bytes 16 03 ...) looks like a TLS handshake, "
                 "not a frame header", least, (unsigned long)len);
    else
        snprintf(out, cap, "frame length %s%lu is above the limit of %lu", least,
                 (unsigned long)len, (unsigned long)limit);
}
