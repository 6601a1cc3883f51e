/*
 * fuzz_frame.c - a libFuzzer target for the frame reader (frame.c).
 *
 * A peer may split its bytes anywhere: one recv() can end inside a header,
 * inside a body, or after three frames. So the fuzzer chooses both the
 * bytes and where each recv() ends (as h2o's fuzz driver does), and the
 * reader must hand out the same frames for every choice.
 *
 * Input layout:
 *     byte 0      bits 0-3: max_body is LIMITS[bits]; 15 means the next 4
 *                 bytes hold it, big-endian. bit 4: also feed the chunks
 *                 through a pipe
 *     byte 1      k, how many chunk sizes follow (0: the stream in one recv)
 *     k bytes     chunk sizes, used in turn and round again: the low 7 bits
 *                 are how many bytes this recv() returns (0: none); the high
 *                 bit means "take no frames out after it" (they pile up, as
 *                 in a program busy elsewhere)
 *     the rest    the byte stream the peer sent
 *
 * The stream goes through frame_reader_push; and, when it is small (system
 * calls are slow, and the fuzzer should make millions of runs), through a
 * pipe with frame_reader_fill if bit 4 says so, and whole through
 * recv_frame. Each is compared with a plain walk over the whole stream: the
 * same frames, in order, byte for byte, none longer than max_body, each as
 * soon as its last byte is in and not before; FRAME_TOO_BIG exactly where
 * the walk meets a length over the limit (for the frame reader, as soon as
 * the header bytes that are in prove it); frame_reader_pending right
 * after every chunk, frame_reader_at_eof at the end; a buffer that grows by
 * doubling and no further. Any difference calls abort(), and libFuzzer
 * saves the input. ASan reports bad reads, writes and leaks; UBSan,
 * undefined behaviour.
 *
 * build and run:  make fuzz [FUZZ_SECONDS=60]
 * replay inputs:  build/fuzz/fuzz_frame FILE...
 * Built with -DFUZZ_FRAME_MAIN it has its own main(), which runs each FILE
 * once (make sanitize replays the seeds in solution/fuzz-corpus/ that way).
 */
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_CAP 1024            /* frame.c's first allocation */
#define FILL_BOUND(max) ((size_t)FRAME_HEADER_SIZE + (max) + 64 * 1024)  /* a frame + one fill */
#define PIPE_MAX 1024           /* streams through a pipe: small ones (syscalls are slow) */

static const uint32_t LIMITS[15] = {
    0, 1, 2, 3, 4, 5, 7, 8, 16, 100, 255, 256, 1000, 4096, 65536
};

/* expect - the check of every invariant: a failure is a finding. */
#define expect(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_frame.c:%d: expected %s\n", __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

/* ---- the reference: the stream as a whole ------------------------------- */

struct input {
    const uint8_t *stream;      /* what the peer sent */
    size_t len;
    const uint8_t *sizes;       /* the chunk sizes, k of them */
    size_t k;
    uint32_t max_body;
};

/* be32 - a big-endian length, decoded here without frame.c's help. */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * ref_next - what a reader that has been given stream[0..have) must answer
 * for the frame starting at pos: FRAME_OK (with *len), FRAME_AGAIN (not all
 * of it is here yet), or FRAME_TOO_BIG (with *len the announced length). A
 * frame_reader (early) refuses as soon as the header bytes that are here
 * make the length too big whatever the others are (*len is then the least
 * length they allow); recv_frame reads a header whole first.
 */
static int ref_next(const struct input *in, size_t pos, size_t have, uint32_t limit,
                    uint32_t *len, int early)
{
    uint8_t h[FRAME_HEADER_SIZE] = {0};
    size_t known = have - pos < FRAME_HEADER_SIZE ? have - pos : FRAME_HEADER_SIZE;

    memcpy(h, in->stream + pos, known);
    *len = be32(h);
    if (known > 0 && *len > limit && (early || known == FRAME_HEADER_SIZE))
        return FRAME_TOO_BIG;
    if (known < FRAME_HEADER_SIZE)
        return FRAME_AGAIN;
    return have - pos - FRAME_HEADER_SIZE < *len ? FRAME_AGAIN : FRAME_OK;
}

/* ref_complete_end - where the run of complete frames that starts at pos ends. */
static size_t ref_complete_end(const struct input *in, size_t pos, size_t have, uint32_t limit)
{
    uint32_t n;

    while (ref_next(in, pos, have, limit, &n, 1) == FRAME_OK)
        pos += FRAME_HEADER_SIZE + n;
    return pos;
}

/* ---- the frame reader, one chunk at a time ------------------------------- */

struct feed {
    struct frame_reader r;
    size_t have;            /* stream bytes given to the reader so far */
    size_t pos;             /* where the next frame to hand out starts */
    size_t complete_end;    /* where the run of complete frames after pos ends */
    size_t most_needed;     /* the most bytes the buffer ever had to hold at once */
};

/*
 * drain - take frames out until the reader has none, checking each against
 * the stream. Returns the last status: FRAME_AGAIN or FRAME_TOO_BIG.
 */
static int drain(struct feed *f, const struct input *in)
{
    for (;;) {
        const unsigned char *body = NULL;
        uint32_t len = 0, want_len = 0;
        int want = ref_next(in, f->pos, f->have, in->max_body, &want_len, 1);
        int got = frame_reader_next(&f->r, &body, &len);

        expect(got == want);
        if (got == FRAME_TOO_BIG) {
            expect(f->r.bad_length == want_len);
            /* asking again changes nothing: the reader stays refused */
            expect(frame_reader_next(&f->r, &body, &len) == FRAME_TOO_BIG);
            expect(f->r.bad_length == want_len);
            return got;
        }
        if (got == FRAME_AGAIN)
            return got;
        expect(len == want_len && len <= in->max_body);
        expect(len == 0 || memcmp(body, in->stream + f->pos + FRAME_HEADER_SIZE, len) == 0);
        f->pos += FRAME_HEADER_SIZE + len;
    }
}

/*
 * after_chunk - the checks after each recv: frames out (unless this chunk
 * is lazy), pending bytes, the buffer's size.
 */
static void after_chunk(struct feed *f, const struct input *in, int lazy, size_t bound)
{
    if (!lazy)
        drain(f, in);
    if (f->complete_end < f->pos)
        f->complete_end = f->pos;
    f->complete_end = ref_complete_end(in, f->complete_end, f->have, in->max_body);
    /* "bytes that belong to no complete frame yet", handed out or not */
    expect(frame_reader_pending(&f->r) == f->have - f->complete_end);
    /* growth doubles: never more than twice what had to be held (or the minimum) */
    expect(f->r.cap <= bound);
    expect(f->r.cap <= (f->most_needed * 2 > MIN_CAP ? f->most_needed * 2 : MIN_CAP));
}

/* next_chunk - the size of chunk number i, and whether it is lazy. */
static size_t next_chunk(const struct input *in, size_t i, size_t left, int *lazy)
{
    size_t n = left;

    *lazy = 0;
    if (in->k > 0) {
        n = in->sizes[i % in->k] & 0x7f;
        *lazy = (in->sizes[i % in->k] & 0x80) != 0;
    }
    return n < left ? n : left;
}

/* finish - the end of the stream: the rest comes out, then EOF means what it should. */
static void finish(struct feed *f, const struct input *in)
{
    int last = drain(f, in);

    expect(f->have == in->len);
    if (last == FRAME_AGAIN && f->pos == in->len)
        expect(frame_reader_at_eof(&f->r) == FRAME_EOF);
    else
        expect(frame_reader_at_eof(&f->r) == FRAME_TRUNCATED);
    frame_reader_free(&f->r);
}

/* feed_push - the stream through frame_reader_push, chunk by chunk. */
static void feed_push(const struct input *in)
{
    struct feed f;
    size_t i;

    memset(&f, 0, sizeof f);
    frame_reader_init(&f.r, in->max_body);
    for (i = 0; f.have < in->len; i++) {
        int lazy;
        size_t n = next_chunk(in, i, in->len - f.have, &lazy);
        size_t needed = f.r.end - f.r.start + n;

        if (needed > f.most_needed)
            f.most_needed = needed;
        expect(frame_reader_push(&f.r, in->stream + f.have, n) == FRAME_OK);
        f.have += n;
        after_chunk(&f, in, lazy, (size_t)-1);
    }
    finish(&f, in);
}

/* ---- the same, through a pipe and frame_reader_fill ---------------------- */

static int chunk_pipe[2] = {-1, -1};   /* made once; empty between inputs */

/*
 * feed_fill - each chunk is written to a pipe, and frame_reader_fill takes
 * it out with one read(). (The stream is small: the reader never reaches
 * its bound, so no ENOBUFS.)
 */
static void feed_fill(const struct input *in)
{
    struct feed f;
    size_t i;
    char byte;

    if (chunk_pipe[0] < 0) {
        expect(pipe(chunk_pipe) == 0);
        expect(fcntl(chunk_pipe[0], F_SETFL, O_NONBLOCK) == 0);
    }
    memset(&f, 0, sizeof f);
    frame_reader_init(&f.r, in->max_body);
    f.most_needed = FILL_BOUND(in->max_body);   /* fill makes room for a whole read */
    for (i = 0; f.have < in->len; i++) {
        int lazy;
        size_t n = next_chunk(in, i, in->len - f.have, &lazy);

        expect(write(chunk_pipe[1], in->stream + f.have, n) == (ssize_t)n);
        errno = 0;
        if (n == 0)             /* nothing has arrived: a non-blocking read says so */
            expect(frame_reader_fill(&f.r, chunk_pipe[0]) == -1 && errno == EAGAIN);
        else
            expect(frame_reader_fill(&f.r, chunk_pipe[0]) == (ssize_t)n);
        f.have += n;
        after_chunk(&f, in, lazy, FILL_BOUND(in->max_body));
    }
    expect(read(chunk_pipe[0], &byte, 1) == -1 && errno == EAGAIN);  /* all was read */
    finish(&f, in);
}

/* ---- recv_frame: blocking reads of the whole stream ----------------------- */

/*
 * feed_recv_frame - write the whole stream into a pipe, close it, and read
 * it back with recv_frame into a buffer of exactly the limit's size (so
 * ASan catches a write one byte past it). After FRAME_TOO_BIG, the body
 * must still be unread.
 */
static void feed_recv_frame(const struct input *in)
{
    uint32_t limit = in->max_body < PIPE_MAX ? in->max_body : PIPE_MAX;
    unsigned char *buf = malloc(limit);
    int fds[2];
    size_t pos = 0;

    expect(buf != NULL || limit == 0);
    expect(pipe(fds) == 0);
    expect(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
    expect(write(fds[1], in->stream, in->len) == (ssize_t)in->len);  /* PIPE_MAX fits */
    close(fds[1]);              /* the peer closes: the reader sees EOF after the stream */
    for (;;) {
        uint32_t len = 0, want_len = 0;
        int got = recv_frame(fds[0], buf, limit, &len);
        int want = ref_next(in, pos, in->len, limit, &want_len, 0);

        if (want == FRAME_AGAIN)    /* nothing more will come: the end, clean or not */
            want = pos == in->len ? FRAME_EOF : FRAME_TRUNCATED;
        expect(got == want);
        if (got == FRAME_TOO_BIG) {
            unsigned char rest[512];
            size_t unread = 0;
            ssize_t k;

            expect(len == want_len);
            while ((k = read(fds[0], rest, sizeof rest)) > 0)
                unread += (size_t)k;
            expect(unread == in->len - pos - FRAME_HEADER_SIZE);
        }
        if (got != FRAME_OK)
            break;
        expect(len == want_len && len <= limit);
        expect(len == 0 || memcmp(buf, in->stream + pos + FRAME_HEADER_SIZE, len) == 0);
        pos += FRAME_HEADER_SIZE + len;
    }
    close(fds[0]);
    free(buf);
}

/* ---- the entry point ----------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - split the input as the layout above says, run every path. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in;
    size_t i, any = 0;
    int via_pipe;

    if (size < 2)
        return 0;
    via_pipe = (data[0] & 0x10) != 0;
    in.max_body = LIMITS[(data[0] & 15) % 15];
    if ((data[0] & 15) == 15) {
        if (size < 6)
            return 0;
        in.max_body = be32(data + 1);
        data += 4;
        size -= 4;
    }
    in.k = data[1];
    if (size - 2 < in.k)
        return 0;
    in.sizes = data + 2;
    in.stream = data + 2 + in.k;
    in.len = size - 2 - in.k;
    for (i = 0; i < in.k; i++)
        any |= in.sizes[i] & 0x7f;
    if (!any)
        in.k = 0;               /* only empty recvs would never end: one recv instead */

    feed_push(&in);
    if (in.len <= PIPE_MAX) {
        if (via_pipe)
            feed_fill(&in);
        feed_recv_frame(&in);
    }
    return 0;
}

#ifdef FUZZ_FRAME_MAIN
/* main - without libFuzzer: run each file given once. */
int main(int argc, char **argv)
{
    int i;

    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: fuzz_frame FILE...\n");
        return 2;
    }
    for (i = 1; i < argc; i++) {
        static uint8_t data[1 << 20];
        FILE *fp = fopen(argv[i], "rb");
        size_t n;

        if (fp == NULL) {
            perror(argv[i]);
            return 1;
        }
        n = fread(data, 1, sizeof data, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(data, n);
    }
    printf("fuzz_frame: %d inputs, no finding\n", argc - 1);
    return 0;
}
#endif
