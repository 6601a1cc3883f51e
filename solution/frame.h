/*
 * frame.h - length-prefixed frames over a TCP byte stream.
 *
 * TCP delivers bytes, not messages: one recv() may return part of a send, or
 * the end of one send and the start of the next. A frame puts the boundary
 * back: a 4-byte unsigned length in network byte order (big-endian), then
 * exactly that many bytes of body.
 *
 *     00 00 00 05 'h' 'e' 'l' 'l' 'o'      <- the frame for "hello"
 *
 * Return values. Every function here returns one of the frame_status codes
 * below (or a byte count where it says so). None of them prints or exits;
 * the program decides what an error means. FRAME_SYS leaves errno set by
 * the system call that failed.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FRAME_HEADER_SIZE 4

enum frame_status {
    FRAME_OK = 0,         /* a whole frame was read or written */
    FRAME_AGAIN = 1,      /* frame_reader: no complete frame buffered yet */
    FRAME_EOF = -1,       /* the peer closed at a frame boundary: a clean end */
    FRAME_TRUNCATED = -2, /* the peer closed inside a header or a body */
    FRAME_TOO_BIG = -3,   /* the header announced more than the caller's limit */
    FRAME_SYS = -4,       /* a system call failed; errno says why */
    FRAME_NOMEM = -5      /* malloc failed */
};

/* frame_strerror - a short English phrase for a frame_status code. */
const char *frame_strerror(int status);

/* frame_put_length - write len into out[0..3], big-endian (what htonl does). */
void frame_put_length(unsigned char out[FRAME_HEADER_SIZE], uint32_t len);

/* frame_get_length - read a big-endian length from in[0..3]. */
uint32_t frame_get_length(const unsigned char in[FRAME_HEADER_SIZE]);

/*
 * read_exact - read exactly n bytes, looping over short reads and EINTR.
 * Returns n; or fewer (0..n-1) if the peer closed first; or -1 with errno.
 */
ssize_t read_exact(int fd, void *buf, size_t n);

/*
 * write_all - write all n bytes, looping over short writes and EINTR.
 * Never raises SIGPIPE on a socket. Returns 0, or -1 with errno (EPIPE if
 * the peer is gone).
 */
int write_all(int fd, const void *buf, size_t n);

/*
 * send_frame - send header and body with one system call (sendmsg with two
 * iovecs). Two send() calls, header then body, would let Nagle's algorithm
 * hold the body until the header is ACKed: tens of ms per message.
 * Returns FRAME_OK, FRAME_TOO_BIG (len does not fit in 32 bits), or
 * FRAME_SYS with errno.
 */
int send_frame(int fd, const void *body, size_t len);

/*
 * send_framev - like send_frame, with the body gathered from several pieces
 * (e.g. a 1-byte message type and its payload). At most 8 pieces; more (or
 * fewer than 0) gives FRAME_SYS with errno EINVAL.
 */
int send_framev(int fd, const struct iovec *parts, int nparts);

/*
 * recv_frame - read one frame with blocking reads: the header, then the body.
 * Cost: at least two read() system calls per frame (4 bytes, then the body),
 * and more when the body comes in pieces; it never reads past its frame, so
 * it needs no buffer between calls. Right for a few frames, or big ones. For
 * a stream of small frames (answers of pipelined commands, many 'O' chunks)
 * use a frame_reader: one recv() takes every frame that has arrived, so a
 * burst of 100 small frames costs a few system calls, not 200.
 * The body goes into buf (capacity cap); a length above cap is rejected
 * with FRAME_TOO_BIG before any of the body is read. *len gets the length
 * (on FRAME_TOO_BIG too: the length the header announced).
 * Returns FRAME_OK, FRAME_EOF (closed before any byte of this frame),
 * FRAME_TRUNCATED, FRAME_TOO_BIG, or FRAME_SYS.
 */
int recv_frame(int fd, void *buf, size_t cap, uint32_t *len);

/*
 * frame_reader - a buffered reader: one recv() may carry several frames and
 * the start of the next; the reader hands out every complete frame and keeps
 * the partial tail for the next recv(). (CS:APP's rio_t does the same for lines.)
 */
struct frame_reader {
    unsigned char *buf;  /* buffered bytes live in buf[start..end) */
    size_t cap;          /* allocated size of buf */
    size_t start, end;
    uint32_t max_body;   /* longer bodies are refused with FRAME_TOO_BIG */
    uint32_t bad_length; /* after FRAME_TOO_BIG: the length that was announced,
                          * or the least one the header bytes seen allow */
    int bad_known;       /* after FRAME_TOO_BIG: how many header bytes were seen (1-4) */
};

/* frame_reader_init - an empty reader; allocates nothing yet. Returns FRAME_OK. */
int frame_reader_init(struct frame_reader *r, uint32_t max_body);

/* frame_reader_free - release the buffer; the reader may be init'ed again. */
void frame_reader_free(struct frame_reader *r);

/*
 * frame_reader_push - append n bytes that arrived (as if from one recv).
 * Returns FRAME_OK or FRAME_NOMEM. Used by tests and the fuzzer; programs
 * usually call frame_reader_fill.
 */
int frame_reader_push(struct frame_reader *r, const void *data, size_t n);

/*
 * frame_reader_fill - one recv() from fd into the reader's free space.
 * Returns the byte count (> 0), 0 if the peer closed, or -1 with errno
 * (EAGAIN on a non-blocking socket with nothing to read; ENOMEM; ENOBUFS if
 * the buffer is full of frames that frame_reader_next has not taken out).
 */
ssize_t frame_reader_fill(struct frame_reader *r, int fd);

/*
 * frame_reader_next - take the next complete frame out of the buffer.
 * Returns FRAME_OK with *body pointing into the reader's buffer (valid until
 * the next call on the reader) and *len its length, FRAME_AGAIN if no whole frame is
 * buffered yet, or FRAME_TOO_BIG if the next header announces more than
 * max_body (r->bad_length says how much; nothing was allocated for it).
 * It refuses as soon as the header bytes that have arrived prove it: a
 * first byte of 'l' (0x6c) makes any length at least 0x6c000000, so a peer
 * that sends text instead of frames is refused at its first byte, not after
 * four (r->bad_known says how many it saw, r->bad_length the least length).
 */
int frame_reader_next(struct frame_reader *r, const unsigned char **body, uint32_t *len);

/* frame_reader_pending - how many buffered bytes belong to no complete frame yet. */
size_t frame_reader_pending(const struct frame_reader *r);

/*
 * frame_reader_at_eof - what the peer's close means, given what is buffered:
 * FRAME_EOF if nothing is left over, FRAME_TRUNCATED if a partial frame is.
 */
int frame_reader_at_eof(const struct frame_reader *r);

/*
 * frame_describe_length - one line for people about a refused length: what
 * the header's bytes look like (text, a TLS handshake, or just a length above
 * the limit), so that whoever reads it learns what is talking to the port:
 *   length 1195725856 (bytes 'GET ') looks like text, not a frame header
 * known is how many of the header's bytes arrived (1-4; len counts the
 * others as 0). Written into out (capacity cap).
 */
void frame_describe_length(char *out, size_t cap, uint32_t len, int known, uint32_t limit);

#endif
