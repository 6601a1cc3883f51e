/*
 * test_frame.c - unit tests for the framing module (frame.c).
 *
 * usage: test_frame [SEED [ROUNDS]]
 *
 * Each test case is one function. A failed check prints file:line, the
 * case and what differed; the last line is "test_frame: N passed, N failed"
 * counting test cases, and the exit status is 1 if any case failed.
 * SEED (printed on every run) replays the random property test exactly.
 */
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SHOWN 10            /* failed checks printed per test case */
#define MAX_FRAMES 512          /* frames in one test stream */
#define SOCKET_PIECE 16384      /* what one process may write before it reads */
#define FILL_BOUND(max) ((size_t)FRAME_HEADER_SIZE + (max) + 64 * 1024)

/* ---- checks ------------------------------------------------------------ */

static const char *current_case;
static int case_failures;
static int cases_passed, cases_failed;

/* check - count a failed check in the current case and say what differed. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok)
        return;
    case_failures++;
    if (case_failures > MAX_SHOWN) {
        if (case_failures == MAX_SHOWN + 1)
            printf("%s:%d: %s: more failures, not shown\n", file, line, current_case);
        return;
    }
    printf("%s:%d: %s: ", file, line, current_case);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* status_name - the enum name of a frame_status, for messages. */
static const char *status_name(int st)
{
    switch (st) {
    case FRAME_OK:        return "FRAME_OK";
    case FRAME_AGAIN:     return "FRAME_AGAIN";
    case FRAME_EOF:       return "FRAME_EOF";
    case FRAME_TRUNCATED: return "FRAME_TRUNCATED";
    case FRAME_TOO_BIG:   return "FRAME_TOO_BIG";
    case FRAME_SYS:       return "FRAME_SYS";
    case FRAME_NOMEM:     return "FRAME_NOMEM";
    default:              return "(not a frame_status)";
    }
}

#define CHECK(cond) \
    check((cond) != 0, __FILE__, __LINE__, "%s", "CHECK(" #cond ") failed")
#define CHECK_MSG(cond, ...) check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(got, want) do { \
        long long got_ = (long long)(got), want_ = (long long)(want); \
        check(got_ == want_, __FILE__, __LINE__, "%s is %lld, expected %lld", \
              #got, got_, want_); \
    } while (0)
#define CHECK_STATUS(got, want) do { \
        int got_ = (got), want_ = (want), errno_ = errno; \
        check(got_ == want_, __FILE__, __LINE__, "%s returned %s, expected %s%s%s", \
              #got, status_name(got_), status_name(want_), \
              got_ == FRAME_SYS ? "; errno: " : "", \
              got_ == FRAME_SYS ? strerror(errno_) : ""); \
    } while (0)

/* fail - format a reason into a static buffer, for helpers that return one. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static const char *fail(const char *fmt, ...)
{
    static char why[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return why;
}

/* ---- small tools --------------------------------------------------------- */

/* die - give up on the whole run (out of memory, fork failed). */
static void die(const char *what)
{
    printf("test_frame: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* rnd - xorshift64*: a tiny PRNG, so one seed replays a whole run. */
static uint64_t rnd(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

/* rnd_below - a random number in 0..n-1 (0 if n is 0). */
static size_t rnd_below(uint64_t *state, size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd(state) % n);
}

/* rnd_state - a PRNG state from a seed (the state must not be 0). */
static uint64_t rnd_state(uint64_t seed)
{
    uint64_t s = seed ^ 0x9E3779B97F4A7C15ULL;

    return s == 0 ? 1 : s;
}

/* set_timeout - make a blocked read or write on fd give up after seconds:
 * a bug then fails a check instead of hanging the test. */
static void set_timeout(int fd, int seconds)
{
    struct timeval tv;

    tv.tv_sec = seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* make_pair - a connected pair of stream sockets, with 10 s timeouts. */
static int make_pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    set_timeout(sv[0], 10);
    set_timeout(sv[1], 10);
    return 0;
}

/* close_pair - close both ends. */
static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

/* child_status - wait for a child; its exit code, or 128+N if signal N killed it. */
static int child_status(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* pause_ms - sleep for ms milliseconds, even if signals keep waking us. */
static void pause_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* write_in_pieces - write bytes in random pieces (often tiny, so headers
 * split), pausing pause_us after each: the reader sees every kind of short
 * read. Returns 0, or -1 with errno. */
static int write_in_pieces(int fd, const unsigned char *bytes, size_t size,
                           uint64_t *rng, long pause_us)
{
    size_t done = 0;

    while (done < size) {
        size_t piece = rnd_below(rng, 4) == 0 ? 1 + rnd_below(rng, 8)
                                              : 1 + rnd_below(rng, 16384);
        struct timespec ts;

        if (piece > size - done)
            piece = size - done;
        if (write_all(fd, bytes + done, piece) != 0)
            return -1;
        done += piece;
        ts.tv_sec = 0;
        ts.tv_nsec = pause_us * 1000;
        if (pause_us > 0)
            nanosleep(&ts, NULL);   /* an early wake-up by a signal is fine */
    }
    return 0;
}

/* ---- test streams ---------------------------------------------------------- */

/* A stream of frames as they go on the wire, and where each one lies in it. */
struct stream {
    unsigned char *bytes;
    size_t size;                /* bytes on the wire (may stop inside a frame) */
    size_t alloc;
    uint32_t max_body;          /* the receiver's limit */
    int n;                      /* frames written */
    uint32_t len[MAX_FRAMES];
    size_t body_at[MAX_FRAMES]; /* where each body starts (its header just before) */
    size_t end_at[MAX_FRAMES];  /* just past each body */
    int bad;                    /* a frame whose header announces too much, or -1 */
    uint32_t bad_len;
};

/* stream_init - an empty stream for a receiver that accepts up to max_body. */
static void stream_init(struct stream *s, uint32_t max_body)
{
    memset(s, 0, sizeof *s);
    s->alloc = 64;
    s->bytes = malloc(s->alloc);
    if (s->bytes == NULL)
        die("malloc");
    s->max_body = max_body;
    s->bad = -1;
}

/* stream_add - append one frame with len random bytes of body. */
static void stream_add(struct stream *s, uint32_t len, uint64_t *rng)
{
    size_t need = s->size + FRAME_HEADER_SIZE + len, i;

    if (s->n == MAX_FRAMES) {
        errno = ENOSPC;
        die("too many frames in a test stream");
    }
    if (need > s->alloc) {
        s->alloc = need * 2;
        s->bytes = realloc(s->bytes, s->alloc);
        if (s->bytes == NULL)
            die("realloc");
    }
    frame_put_length(s->bytes + s->size, len);
    s->len[s->n] = len;
    s->body_at[s->n] = s->size + FRAME_HEADER_SIZE;
    s->end_at[s->n] = need;
    for (i = s->body_at[s->n]; i < need; i++)
        s->bytes[i] = (unsigned char)(rnd(rng) >> 56);
    s->size = need;
    s->n++;
}

/* stream_corrupt - make frame k's header announce bad_len (above the limit). */
static void stream_corrupt(struct stream *s, int k, uint32_t bad_len)
{
    frame_put_length(s->bytes + s->body_at[k] - FRAME_HEADER_SIZE, bad_len);
    s->bad = k;
    s->bad_len = bad_len;
}

/* stream_free - release the bytes. */
static void stream_free(struct stream *s)
{
    free(s->bytes);
    s->bytes = NULL;
}

/* What a correct receiver must report once the first pos bytes have arrived. */

/* frames_by - how many frames it has handed out (none past a bad header). */
static int frames_by(const struct stream *s, size_t pos)
{
    int k = 0;

    while (k < s->n && k != s->bad && s->end_at[k] <= pos)
        k++;
    return k;
}

/* least_length - the least length the first k bytes of a header allow:
 * the others taken as 0 (big-endian, decoded here without frame.c). */
static uint32_t least_length(const unsigned char *h, size_t k)
{
    uint32_t n = 0;

    for (size_t i = 0; i < FRAME_HEADER_SIZE; i++)
        n = n << 8 | (i < k ? h[i] : 0);
    return n;
}

/* header_seen - how many bytes of the bad header the first pos bytes hold. */
static size_t header_seen(const struct stream *s, size_t pos)
{
    size_t at = s->body_at[s->bad] - FRAME_HEADER_SIZE;

    if (pos <= at)
        return 0;
    return pos - at < FRAME_HEADER_SIZE ? pos - at : FRAME_HEADER_SIZE;
}

/* too_big_by - whether a frame reader has seen enough of a too-big header to
 * refuse it: bytes whose least length is already above the limit. */
static int too_big_by(const struct stream *s, size_t pos)
{
    size_t k;

    if (s->bad < 0 || (k = header_seen(s, pos)) == 0)
        return 0;
    return least_length(s->bytes + s->body_at[s->bad] - FRAME_HEADER_SIZE, k) > s->max_body;
}

/* bad_length_by - the length a frame reader reports when it refuses then. */
static uint32_t bad_length_by(const struct stream *s, size_t pos)
{
    return least_length(s->bytes + s->body_at[s->bad] - FRAME_HEADER_SIZE, header_seen(s, pos));
}

/* whole_header_too_big_by - recv_frame reads a header whole before it refuses. */
static int whole_header_too_big_by(const struct stream *s, size_t pos)
{
    return s->bad >= 0 && pos >= s->body_at[s->bad];
}

/* eof_status - what the peer's close after the whole stream means. */
static int eof_status(const struct stream *s)
{
    int k = frames_by(s, s->size);
    size_t used = k > 0 ? s->end_at[k - 1] : 0;

    return used == s->size ? FRAME_EOF : FRAME_TRUNCATED;
}

/* ---- feeding a stream to the receivers --------------------------------------- */

/*
 * drain - take every complete frame out of r, given that the first got bytes
 * of s have arrived; check each one, and that nothing is missing or early.
 * Sets *stopped on the expected FRAME_TOO_BIG. NULL if all is well.
 */
static const char *drain(struct frame_reader *r, const struct stream *s, size_t got,
                         int *delivered, int *stopped)
{
    const unsigned char *body;
    uint32_t len;
    int st;

    while ((st = frame_reader_next(r, &body, &len)) == FRAME_OK) {
        int k = *delivered;

        if (k >= frames_by(s, got))
            return fail("frame %d handed out early, after %zu bytes", k, got);
        if (len != s->len[k])
            return fail("frame %d: length %lu, expected %lu", k,
                        (unsigned long)len, (unsigned long)s->len[k]);
        if (memcmp(body, s->bytes + s->body_at[k], len) != 0)
            return fail("frame %d (length %lu): body differs", k, (unsigned long)len);
        (*delivered)++;
    }
    if (st == FRAME_TOO_BIG) {
        if (!too_big_by(s, got) || *delivered != s->bad)
            return fail("unexpected FRAME_TOO_BIG (length %lu) after %zu bytes, %d frames",
                        (unsigned long)r->bad_length, got, *delivered);
        if (r->bad_length != bad_length_by(s, got))
            return fail("bad_length is %lu, expected %lu", (unsigned long)r->bad_length,
                        (unsigned long)bad_length_by(s, got));
        if (frame_reader_next(r, &body, &len) != FRAME_TOO_BIG)
            return fail("FRAME_TOO_BIG not repeated on the next call");
        *stopped = 1;
        return NULL;
    }
    if (st != FRAME_AGAIN)
        return fail("frame_reader_next returned %s", status_name(st));
    if (*delivered != frames_by(s, got))
        return fail("after %zu bytes: %d frames out, expected %d",
                    got, *delivered, frames_by(s, got));
    if (too_big_by(s, got))
        return fail("after %zu bytes: FRAME_AGAIN, expected FRAME_TOO_BIG", got);
    return NULL;
}

/* finish - the checks after the peer closed: leftover bytes and their meaning. */
static const char *finish(const struct frame_reader *r, const struct stream *s, int delivered)
{
    size_t used = delivered > 0 ? s->end_at[delivered - 1] : 0;

    if (frame_reader_pending(r) != s->size - used)
        return fail("pending is %zu, expected %zu", frame_reader_pending(r), s->size - used);
    if (frame_reader_at_eof(r) != eof_status(s))
        return fail("at_eof says %s, expected %s",
                    status_name(frame_reader_at_eof(r)), status_name(eof_status(s)));
    return NULL;
}

/* feed_push - push s into a reader in chunks ending at cuts[0..ncuts) (ascending). */
static const char *feed_push(const struct stream *s, const size_t *cuts, size_t ncuts)
{
    struct frame_reader r;
    const char *err = NULL;
    size_t sent = 0, c;
    int delivered = 0, stopped = 0;

    frame_reader_init(&r, s->max_body);
    for (c = 0; c <= ncuts && err == NULL && !stopped; c++) {
        size_t to = c < ncuts ? cuts[c] : s->size;

        if (frame_reader_push(&r, s->bytes + sent, to - sent) != FRAME_OK)
            err = fail("frame_reader_push: out of memory");
        else
            err = drain(&r, s, to, &delivered, &stopped);
        sent = to;
    }
    if (err == NULL && !stopped)
        err = finish(&r, s, delivered);
    frame_reader_free(&r);
    return err;
}

/*
 * feed_socket - the same through a real socket: write each chunk (in pieces
 * the socket buffer can hold), then frame_reader_fill until it has all arrived.
 */
static const char *feed_socket(const struct stream *s, const size_t *cuts, size_t ncuts)
{
    struct frame_reader r;
    const char *err = NULL;
    size_t sent = 0, got = 0, c;
    int delivered = 0, stopped = 0, sv[2];
    ssize_t n;

    if (make_pair(sv) < 0)
        return fail("socketpair: %s", strerror(errno));
    frame_reader_init(&r, s->max_body);
    for (c = 0; c <= ncuts && err == NULL && !stopped; c++) {
        size_t to = c < ncuts ? cuts[c] : s->size;

        while (sent < to && err == NULL && !stopped) {
            size_t piece = to - sent < SOCKET_PIECE ? to - sent : SOCKET_PIECE;

            if (write_all(sv[1], s->bytes + sent, piece) != 0) {
                err = fail("write_all: %s", strerror(errno));
                break;
            }
            sent += piece;
            while (got < sent && err == NULL && !stopped) {
                n = frame_reader_fill(&r, sv[0]);
                if (n <= 0) {
                    err = fail("frame_reader_fill returned %zd (%s)", n, strerror(errno));
                    break;
                }
                got += (size_t)n;
                err = drain(&r, s, got, &delivered, &stopped);
            }
        }
    }
    if (err == NULL && !stopped) {
        shutdown(sv[1], SHUT_WR);           /* the peer closes */
        n = frame_reader_fill(&r, sv[0]);
        if (n != 0)
            err = fail("frame_reader_fill at EOF returned %zd, expected 0", n);
        else
            err = finish(&r, s, delivered);
    }
    frame_reader_free(&r);
    close_pair(sv);
    return err;
}

/*
 * feed_recv_frame - write the whole stream (it must fit in the socket buffer),
 * close, and read it back with recv_frame: the same frames, the same verdict.
 */
static const char *feed_recv_frame(const struct stream *s)
{
    unsigned char *buf = malloc((size_t)s->max_body + 1);
    const char *err = NULL;
    uint32_t len = 0;
    int sv[2], k, st = FRAME_OK, want;

    if (buf == NULL)
        die("malloc");
    if (make_pair(sv) < 0)
        die("socketpair");
    if (write_all(sv[1], s->bytes, s->size) != 0)
        err = fail("write_all: %s", strerror(errno));
    shutdown(sv[1], SHUT_WR);
    for (k = 0; err == NULL; k++) {
        st = recv_frame(sv[0], buf, s->max_body, &len);
        if (st != FRAME_OK)
            break;
        if (k >= frames_by(s, s->size))
            err = fail("recv_frame: frame %d is one too many", k);
        else if (len != s->len[k] || memcmp(buf, s->bytes + s->body_at[k], len) != 0)
            err = fail("recv_frame: frame %d differs (length %lu, expected %lu)",
                       k, (unsigned long)len, (unsigned long)s->len[k]);
    }
    want = whole_header_too_big_by(s, s->size) ? FRAME_TOO_BIG : eof_status(s);
    if (err == NULL && k != frames_by(s, s->size))
        err = fail("recv_frame: %d frames, expected %d", k, frames_by(s, s->size));
    else if (err == NULL && st != want)
        err = fail("recv_frame ended with %s, expected %s", status_name(st), status_name(want));
    else if (err == NULL && st == FRAME_TOO_BIG && len != s->bad_len)
        err = fail("recv_frame: *len is %lu after FRAME_TOO_BIG, expected %lu",
                   (unsigned long)len, (unsigned long)s->bad_len);
    close_pair(sv);
    free(buf);
    return err;
}

/* build_sample - the stream most cases use: lengths 0, 1, a few hundred, and
 * exactly the limit (1000), in an order that puts them next to each other. */
static void build_sample(struct stream *s)
{
    static const uint32_t lengths[] = { 0, 1, 300, 1000, 5, 0, 2, 200, 1000, 0 };
    uint64_t rng = rnd_state(1);
    size_t i;

    stream_init(s, 1000);
    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        stream_add(s, lengths[i], &rng);
}

/* ---- the test cases -------------------------------------------------------- */

/* case_length_bytes - the header is big-endian whatever the machine. */
static void case_length_bytes(void)
{
    unsigned char h[FRAME_HEADER_SIZE];
    static const unsigned char hello[] = { 0, 0, 0, 5 };
    static const unsigned char mixed[] = { 0x01, 0x02, 0x03, 0x04 };

    frame_put_length(h, 5);
    CHECK(memcmp(h, hello, 4) == 0);
    frame_put_length(h, 0x01020304);
    CHECK(memcmp(h, mixed, 4) == 0);
    CHECK_EQ(frame_get_length(mixed), 0x01020304);
    frame_put_length(h, 0xFFFFFFFF);
    CHECK_EQ(frame_get_length(h), 0xFFFFFFFFu);
    frame_put_length(h, 0);
    CHECK_EQ(frame_get_length(h), 0);
}

/* case_strerror - every status has its own phrase. */
static void case_strerror(void)
{
    static const int all[] = { FRAME_OK, FRAME_AGAIN, FRAME_EOF, FRAME_TRUNCATED,
                               FRAME_TOO_BIG, FRAME_SYS, FRAME_NOMEM, 42 };
    size_t i, j, n = sizeof all / sizeof all[0];

    for (i = 0; i < n; i++) {
        CHECK(frame_strerror(all[i]) != NULL && frame_strerror(all[i])[0] != '\0');
        for (j = 0; j < i; j++)
            CHECK_MSG(strcmp(frame_strerror(all[i]), frame_strerror(all[j])) != 0,
                      "%s and %s share a phrase", status_name(all[i]), status_name(all[j]));
    }
}


/* cuts_after_every_byte - split points 1, 2, ..., n: one byte per recv. Free it. */
static size_t *cuts_after_every_byte(size_t n)
{
    size_t *cuts = malloc(n * sizeof *cuts);

    if (cuts == NULL)
        die("malloc");
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    return cuts;
}
/* case_every_split_push - the sample stream cut into two recv chunks at every
 * point, then one byte at a time; a small stream cut at every pair of points. */
static void case_every_split_push(void)
{
    struct stream s, tiny;
    static const uint32_t tiny_lengths[] = { 0, 1, 3, 0, 2 };
    uint64_t rng = rnd_state(2);
    size_t cut, cut2, i, *every;
    size_t cuts[2];
    const char *err;

    build_sample(&s);
    for (cut = 0; cut <= s.size; cut++) {
        cuts[0] = cut;
        err = feed_push(&s, cuts, 1);
        CHECK_MSG(err == NULL, "split at %zu of %zu: %s", cut, s.size, err);
    }

    every = cuts_after_every_byte(s.size);
    err = feed_push(&s, every, s.size);
    CHECK_MSG(err == NULL, "one byte at a time: %s", err);
    free(every);
    stream_free(&s);

    stream_init(&tiny, 3);
    for (i = 0; i < sizeof tiny_lengths / sizeof tiny_lengths[0]; i++)
        stream_add(&tiny, tiny_lengths[i], &rng);
    for (cut = 0; cut <= tiny.size; cut++) {
        for (cut2 = cut; cut2 <= tiny.size; cut2++) {
            cuts[0] = cut;
            cuts[1] = cut2;
            err = feed_push(&tiny, cuts, 2);
            CHECK_MSG(err == NULL, "splits at %zu and %zu: %s", cut, cut2, err);
        }
    }
    stream_free(&tiny);
}

/* case_every_split_socket - the same through a socketpair with
 * frame_reader_fill, and the whole stream with recv_frame. */
static void case_every_split_socket(void)
{
    struct stream s;
    size_t cut, *every;
    const char *err;

    build_sample(&s);
    for (cut = 0; cut <= s.size; cut++) {
        err = feed_socket(&s, &cut, 1);
        CHECK_MSG(err == NULL, "split at %zu of %zu: %s", cut, s.size, err);
    }
    every = cuts_after_every_byte(s.size);
    err = feed_socket(&s, every, s.size);
    CHECK_MSG(err == NULL, "one byte at a time: %s", err);
    free(every);

    err = feed_recv_frame(&s);
    CHECK_MSG(err == NULL, "%s", err);
    stream_free(&s);
}

/* case_eof_positions - the peer closes at each interesting point of
 * "hello" + "world!": between frames is a clean end, anywhere else is not. */
static void case_eof_positions(void)
{
    static const struct {
        size_t cut;
        int frames;
        int status;
        const char *where;
    } table[] = {
        { 0,  0, FRAME_EOF,       "before any byte" },
        { 1,  0, FRAME_TRUNCATED, "after 1 header byte" },
        { 2,  0, FRAME_TRUNCATED, "after 2 header bytes" },
        { 3,  0, FRAME_TRUNCATED, "after 3 header bytes" },
        { 4,  0, FRAME_TRUNCATED, "after the header, before the body" },
        { 6,  0, FRAME_TRUNCATED, "inside the body" },
        { 9,  1, FRAME_EOF,       "after the first frame" },
        { 10, 1, FRAME_TRUNCATED, "after 1 byte of the second header" },
        { 12, 1, FRAME_TRUNCATED, "after 3 bytes of the second header" },
        { 15, 1, FRAME_TRUNCATED, "inside the second body" },
        { 19, 2, FRAME_EOF,       "after both frames" },
    };
    static const unsigned char wire[19] = {
        0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o',
        0, 0, 0, 6, 'w', 'o', 'r', 'l', 'd', '!'
    };
    size_t i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        struct frame_reader r;
        const unsigned char *body;
        unsigned char buf[16];
        uint32_t len;
        int sv[2], k, st;

        /* recv_frame on a socket the peer closed after cut bytes */
        if (make_pair(sv) < 0)
            die("socketpair");
        write_all(sv[1], wire, table[i].cut);
        close(sv[1]);
        for (k = 0; (st = recv_frame(sv[0], buf, sizeof buf, &len)) == FRAME_OK; k++)
            ;
        CHECK_MSG(k == table[i].frames && st == table[i].status,
                  "recv_frame, close %s: %d frames then %s, expected %d then %s",
                  table[i].where, k, status_name(st), table[i].frames,
                  status_name(table[i].status));
        close(sv[0]);

        /* the frame reader given the same bytes */
        frame_reader_init(&r, 16);
        frame_reader_push(&r, wire, table[i].cut);
        for (k = 0; frame_reader_next(&r, &body, &len) == FRAME_OK; k++)
            ;
        st = frame_reader_at_eof(&r);
        CHECK_MSG(k == table[i].frames && st == table[i].status,
                  "frame reader, close %s: %d frames then %s, expected %d then %s",
                  table[i].where, k, status_name(st), table[i].frames,
                  status_name(table[i].status));
        frame_reader_free(&r);
    }
}

/* case_limits - a length at the limit passes; above it, even by one, is
 * refused as soon as the 4 header bytes are in, with no body sent at all. */
static void case_limits(void)
{
    static const uint32_t too_big[] = { 1001, 0x10000, 0xFFFFFFFF };
    /* how many header bytes prove each one too big: 00 00 03 e9 needs all
     * four; 00 01 .. is at least 65536 after two; ff .. after one */
    static const int proven_after[] = { 4, 2, 1 };
    struct frame_reader r;
    const unsigned char *body;
    unsigned char header[FRAME_HEADER_SIZE], *big = calloc(1, 1000);
    unsigned char buf[1000], marker[3];
    uint32_t len;
    size_t i;
    int sv[2];

    if (big == NULL)
        die("calloc");

    /* exactly the limit: accepted by both readers */
    if (make_pair(sv) < 0)
        die("socketpair");
    CHECK_STATUS(send_frame(sv[1], big, 1000), FRAME_OK);
    CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_OK);
    CHECK_EQ(len, 1000);
    close_pair(sv);
    frame_reader_init(&r, 1000);
    frame_put_length(header, 1000);
    frame_reader_push(&r, header, sizeof header);
    frame_reader_push(&r, big, 1000);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_OK);
    CHECK_EQ(len, 1000);
    frame_reader_free(&r);

    for (i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        /* the reader: the header arrives one byte at a time, and is refused
         * as soon as its bytes prove the length too big, not before */
        frame_reader_init(&r, 1000);
        frame_put_length(header, too_big[i]);
        for (int k = 1; k < proven_after[i]; k++) {
            frame_reader_push(&r, header + k - 1, 1);
            CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_AGAIN);
        }
        frame_reader_push(&r, header + proven_after[i] - 1, 1);
        CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_TOO_BIG);
        CHECK_EQ(r.bad_known, proven_after[i]);
        CHECK_EQ(r.bad_length, least_length(header, (size_t)proven_after[i]));
        frame_reader_push(&r, header + proven_after[i], sizeof header - (size_t)proven_after[i]);
        CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_TOO_BIG);
        CHECK_EQ(r.bad_length, too_big[i]); /* the whole header: the length it announced */
        CHECK_MSG(r.cap <= FILL_BOUND(1000), "reader buffer grew to %zu", r.cap);
        CHECK_STATUS(frame_reader_at_eof(&r), FRAME_TRUNCATED);
        frame_reader_free(&r);

        /* recv_frame: the peer sends a header and 3 more bytes, and stays
         * connected. Waiting for the body would block (until the 1 s timeout). */
        if (make_pair(sv) < 0)
            die("socketpair");
        set_timeout(sv[0], 1);
        write_all(sv[1], header, sizeof header);
        write_all(sv[1], "xyz", 3);
        CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_TOO_BIG);
        CHECK_EQ(len, too_big[i]);
        CHECK_EQ(read_exact(sv[0], marker, 3), 3);      /* no body byte was read */
        CHECK(memcmp(marker, "xyz", 3) == 0);
        close_pair(sv);
    }

    /* a limit well above the reader's chunk: nothing is allocated for a
     * length that is refused */
    frame_reader_init(&r, 100000);
    frame_put_length(header, 100001);
    frame_reader_push(&r, header, sizeof header);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_TOO_BIG);
    CHECK_MSG(r.cap < 100001, "reader buffer is %zu bytes for a refused frame", r.cap);
    frame_reader_free(&r);
    free(big);
}

/* case_zero_length - an empty body is a valid frame at this layer. */
static void case_zero_length(void)
{
    struct frame_reader r;
    const unsigned char *body;
    unsigned char buf[4];
    uint32_t len = 99;
    int sv[2];

    if (make_pair(sv) < 0)
        die("socketpair");
    CHECK_STATUS(send_frame(sv[1], NULL, 0), FRAME_OK);
    CHECK_STATUS(send_frame(sv[1], "", 0), FRAME_OK);
    CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_OK);
    CHECK_EQ(len, 0);
    frame_reader_init(&r, 0);                   /* a limit of 0: only empty frames */
    CHECK_EQ(frame_reader_fill(&r, sv[0]), 4);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_OK);
    CHECK_EQ(len, 0);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_AGAIN);
    CHECK_STATUS(frame_reader_at_eof(&r), FRAME_EOF);
    frame_reader_free(&r);
    close_pair(sv);
}

/* case_send_framev - pieces are joined into one body; bad arguments refused. */
static void case_send_framev(void)
{
    struct iovec parts[9];
    unsigned char buf[64];
    uint32_t len;
    int sv[2], i;

    if (make_pair(sv) < 0)
        die("socketpair");
    parts[0].iov_base = "C";
    parts[0].iov_len = 1;
    parts[1].iov_base = "";
    parts[1].iov_len = 0;
    parts[2].iov_base = "ls -l";
    parts[2].iov_len = 5;
    CHECK_STATUS(send_framev(sv[1], parts, 3), FRAME_OK);
    CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_OK);
    CHECK(len == 6 && memcmp(buf, "Cls -l", 6) == 0);

    CHECK_STATUS(send_framev(sv[1], NULL, 0), FRAME_OK);  /* no pieces: empty body */
    CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_OK);
    CHECK_EQ(len, 0);

    for (i = 0; i < 9; i++) {
        parts[i].iov_base = buf;
        parts[i].iov_len = 1;
    }
    errno = 0;
    CHECK_STATUS(send_framev(sv[1], parts, 9), FRAME_SYS);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK_STATUS(send_framev(sv[1], parts, -1), FRAME_SYS);
    CHECK_EQ(errno, EINVAL);

    /* a body that cannot be described in 32 bits is refused before anything
     * is sent (the lengths are checked; the huge pieces are never read) */
    parts[0].iov_len = 0x80000000u;
    parts[1].iov_len = 0x80000000u;
    CHECK_STATUS(send_framev(sv[1], parts, 2), FRAME_TOO_BIG);
#if SIZE_MAX > 0xFFFFFFFFu
    CHECK_STATUS(send_frame(sv[1], buf, (size_t)0xFFFFFFFFu + 1), FRAME_TOO_BIG);
#endif
    shutdown(sv[1], SHUT_WR);
    CHECK_STATUS(recv_frame(sv[0], buf, sizeof buf, &len), FRAME_EOF);  /* nothing leaked out */
    close_pair(sv);
}

/*
 * case_one_sendmsg - header and body leave in one system call. On a
 * SOCK_SEQPACKET socket each send is one record and recv returns one record,
 * so a header sent on its own would come back alone as 4 bytes.
 */
static void case_one_sendmsg(void)
{
    struct iovec parts[3];
    unsigned char buf[256];
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0) {
        set_timeout(sv[0], 10);
        CHECK_STATUS(send_frame(sv[1], "hello", 5), FRAME_OK);
        CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 9);
        CHECK(memcmp(buf, "\0\0\0\5hello", 9) == 0);
        parts[0].iov_base = "O";
        parts[0].iov_len = 1;
        parts[1].iov_base = "some ";
        parts[1].iov_len = 5;
        parts[2].iov_base = "output";
        parts[2].iov_len = 6;
        CHECK_STATUS(send_framev(sv[1], parts, 3), FRAME_OK);
        CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 16);
        close_pair(sv);
    } else {
        printf("test_frame: note: no AF_UNIX SOCK_SEQPACKET here (%s); "
               "single-sendmsg check done on a stream socket only\n", strerror(errno));
    }

    /* on a stream socket: one recv gets header and body together */
    if (make_pair(sv) < 0)
        die("socketpair");
    CHECK_STATUS(send_frame(sv[1], "hello", 5), FRAME_OK);
    CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 9);
    close_pair(sv);
}

/* case_pipes - the same calls work on a pipe (send fails with ENOTSOCK
 * there, and the module falls back to write/writev). */
static void case_pipes(void)
{
    struct frame_reader r;
    const unsigned char *body;
    unsigned char buf[16];
    uint32_t len;
    int p[2];

    if (pipe(p) < 0)
        die("pipe");
    /* write everything first and close: a failed write then shows up as
     * EOF on the reading side, not as a read that waits forever */
    CHECK_EQ(write_all(p[1], "abc", 3), 0);
    CHECK_STATUS(send_frame(p[1], "hello", 5), FRAME_OK);
    CHECK_STATUS(send_frame(p[1], "world", 5), FRAME_OK);
    close(p[1]);
    CHECK_EQ(read_exact(p[0], buf, 3), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_STATUS(recv_frame(p[0], buf, sizeof buf, &len), FRAME_OK);
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0);
    frame_reader_init(&r, 16);
    CHECK_EQ(frame_reader_fill(&r, p[0]), 9);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_OK);
    CHECK(len == 5 && memcmp(body, "world", 5) == 0);
    CHECK_EQ(frame_reader_fill(&r, p[0]), 0);
    CHECK_STATUS(frame_reader_at_eof(&r), FRAME_EOF);
    frame_reader_free(&r);
    close(p[0]);
}

/* case_read_exact - a short count only at EOF. */
static void case_read_exact(void)
{
    unsigned char buf[10];
    int sv[2];

    if (make_pair(sv) < 0)
        die("socketpair");
    CHECK_EQ(read_exact(sv[0], buf, 0), 0);
    write_all(sv[1], "ab", 2);
    write_all(sv[1], "cde", 3);
    CHECK_EQ(read_exact(sv[0], buf, 4), 4);     /* across two writes */
    close(sv[1]);
    CHECK_EQ(read_exact(sv[0], buf, 10), 1);    /* "e", then EOF */
    CHECK_EQ(buf[0], 'e');
    CHECK_EQ(read_exact(sv[0], buf, 10), 0);
    close(sv[0]);
    CHECK_EQ(read_exact(-1, buf, 1), -1);
    CHECK_EQ(errno, EBADF);
}

/* case_fill - one fill can carry many frames; EAGAIN and EOF come through;
 * a buffer nobody drains is refused instead of growing. */
static void case_fill(void)
{
    struct frame_reader r;
    const unsigned char *body;
    unsigned char wire[100 * 14], *lots;
    uint32_t len;
    int sv[2], i, k;
    size_t lots_size = FILL_BOUND(10) + 14;

    for (i = 0; i < 100; i++) {
        frame_put_length(wire + 14 * i, 10);
        memset(wire + 14 * i + 4, 'a' + i % 26, 10);
    }
    if (make_pair(sv) < 0)
        die("socketpair");
    write_all(sv[1], wire, sizeof wire);
    frame_reader_init(&r, 10);
    CHECK_EQ(frame_reader_fill(&r, sv[0]), sizeof wire);        /* one recv */
    for (k = 0; frame_reader_next(&r, &body, &len) == FRAME_OK; k++)
        CHECK_MSG(len == 10 && body[9] == 'a' + k % 26, "frame %d differs", k);
    CHECK_EQ(k, 100);                                           /* ...100 frames */

    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    errno = 0;
    CHECK_EQ(frame_reader_fill(&r, sv[0]), -1);
    CHECK_MSG(errno == EAGAIN || errno == EWOULDBLOCK, "errno is %s, expected EAGAIN",
              strerror(errno));
    close(sv[1]);
    CHECK_EQ(frame_reader_fill(&r, sv[0]), 0);
    CHECK_STATUS(frame_reader_at_eof(&r), FRAME_EOF);
    frame_reader_free(&r);
    close(sv[0]);

    /* push more complete frames than the reader should ever hold, take none out */
    lots = malloc(lots_size);
    if (lots == NULL)
        die("malloc");
    for (i = 0; i + 14 <= (int)lots_size; i += 14) {
        frame_put_length(lots + i, 10);
        memset(lots + i + 4, 'x', 10);
    }
    if (make_pair(sv) < 0)
        die("socketpair");
    write_all(sv[1], "more", 4);
    frame_reader_init(&r, 10);
    CHECK_STATUS(frame_reader_push(&r, lots, (size_t)i), FRAME_OK);
    errno = 0;
    CHECK_EQ(frame_reader_fill(&r, sv[0]), -1);
    CHECK_EQ(errno, ENOBUFS);
    CHECK_STATUS(frame_reader_next(&r, &body, &len), FRAME_OK); /* still all there */
    frame_reader_free(&r);
    frame_reader_free(&r);                      /* freeing twice is harmless */
    close_pair(sv);
    free(lots);
}

/* case_reader_memory - the buffer stays bounded: it compacts instead of
 * growing, and never holds more than one largest frame plus one recv. */
static void case_reader_memory(void)
{
    static const uint32_t lengths[] = { 200000, 0, 199999, 1, 200000, 70000, 5,
                                        65536, 65537, 200000, 3, 131072 };
    struct frame_reader r;
    struct stream s;
    const unsigned char *body;
    unsigned char wire[7 * 1000];
    uint64_t rng = rnd_state(3);
    uint32_t len;
    size_t i, pos, chunk, got = 0, max_cap = 0;
    long frames = 0;
    int sv[2], delivered = 0, stopped = 0;
    const char *err = NULL;
    pid_t pid;

    /* 1 MB of 3-byte frames pushed in chunks of 1 to 11 bytes: most pushes
     * leave a partial frame behind, so a reader that never compacts grows */
    for (i = 0; i < 1000; i++) {
        frame_put_length(wire + 7 * i, 3);
        memcpy(wire + 7 * i + 4, "abc", 3);
    }
    frame_reader_init(&r, 16);
    for (pos = 0, i = 0; pos < 150 * sizeof wire; pos += chunk, i++) {
        chunk = 1 + i % 11;
        if (chunk > sizeof wire - pos % sizeof wire)
            chunk = sizeof wire - pos % sizeof wire;
        frame_reader_push(&r, wire + pos % sizeof wire, chunk);
        while (frame_reader_next(&r, &body, &len) == FRAME_OK)
            frames++;
        if (r.cap > max_cap)
            max_cap = r.cap;
    }
    CHECK_EQ(frames, 150000);
    CHECK_MSG(max_cap <= FILL_BOUND(16), "buffer grew to %zu bytes", max_cap);
    frame_reader_free(&r);

    /* large frames from another process, read with fill */
    stream_init(&s, 200000);
    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        stream_add(&s, lengths[i], &rng);
    if (make_pair(sv) < 0)
        die("socketpair");
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(sv[0]);
        _exit(write_in_pieces(sv[1], s.bytes, s.size, &rng, 20) == 0 ? 0 : 1);
    }
    close(sv[1]);
    frame_reader_init(&r, s.max_body);
    max_cap = 0;
    while (err == NULL && delivered < s.n) {
        ssize_t n = frame_reader_fill(&r, sv[0]);

        if (n <= 0) {
            err = fail("frame_reader_fill returned %zd (%s)", n, strerror(errno));
            break;
        }
        got += (size_t)n;
        err = drain(&r, &s, got, &delivered, &stopped);
        if (r.cap > max_cap)
            max_cap = r.cap;
    }
    CHECK_MSG(err == NULL, "%s", err);
    CHECK_MSG(max_cap <= FILL_BOUND(200000), "buffer grew to %zu bytes, bound %zu",
              max_cap, FILL_BOUND(200000));
    CHECK_EQ(frame_reader_fill(&r, sv[0]), 0);
    CHECK_STATUS(frame_reader_at_eof(&r), FRAME_EOF);
    frame_reader_free(&r);
    close(sv[0]);
    CHECK_EQ(child_status(pid), 0);
    stream_free(&s);
}

/*
 * case_sigpipe - sending to a peer that has gone returns EPIPE; it does not
 * kill the process. Run in a child with SIGPIPE at its default action, so a
 * missing MSG_NOSIGNAL shows up as the child dying.
 */
static void case_sigpipe(void)
{
    struct sigaction sa;
    sigset_t set;
    pid_t pid;
    int st;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int sv[2];

        memset(&sa, 0, sizeof sa);
#if defined(MSG_NOSIGNAL) || defined(SO_NOSIGPIPE)
        sa.sa_handler = SIG_DFL;    /* the module itself must prevent SIGPIPE */
#else
        sa.sa_handler = SIG_IGN;    /* no way to prevent it per call: programs ignore it */
#endif
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            _exit(10);
        close(sv[1]);
        errno = 0;
        if (send_frame(sv[0], "hello", 5) != FRAME_SYS || errno != EPIPE)
            _exit(11);
        errno = 0;
        if (write_all(sv[0], "hello", 5) != -1 || errno != EPIPE)
            _exit(12);
        _exit(0);
    }
    st = child_status(pid);
    CHECK_MSG(st != 128 + SIGPIPE, "the child was killed by SIGPIPE");
    CHECK_MSG(st != 11, "send_frame to a closed peer: not FRAME_SYS with EPIPE");
    CHECK_MSG(st != 12, "write_all to a closed peer: not -1 with EPIPE");
    CHECK_EQ(st, 0);
}

/* ---- EINTR storm ----------------------------------------------------------- */

static volatile sig_atomic_t alarms;

/* on_alarm - count the SIGALRMs; its only job is to interrupt system calls. */
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* alarm_storm - SIGALRM every millisecond, or stop it. The handler is
 * installed without SA_RESTART, so a read or write blocked when the signal
 * arrives fails with EINTR, and the module has to try again. */
static void alarm_storm(int on)
{
    struct sigaction sa;
    struct itimerval it;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                        /* deliberately no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    it.it_interval.tv_sec = 0;
    it.it_interval.tv_usec = on ? 1000 : 0;
    it.it_value = it.it_interval;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* storm_pause - sleep ms milliseconds, and on until three more SIGALRMs
 * have been handled (at most 10 s more): a barrier, not a hope, so that the
 * storm lands in every pause however busy the machine is. */
static void storm_pause(long ms)
{
    sig_atomic_t start = alarms;
    int waited;

    pause_ms(ms);
    for (waited = 0; alarms - start < 3 && waited < 10000; waited++)
        pause_ms(1);
}

/* --stress: the full-size storm (more than 10 MB) and ten times the property
 * rounds, for `make stress`; `make test` runs a storm of about 3 MB. */
static int stress;

/* The data of the storm: frames for recv_frame, frames sent with
 * send_framev, raw bytes for read_exact, frames for frame_reader_fill. */
struct storm {
    struct stream a, big, c;
    unsigned char *raw;
    size_t raw_size;
};

/* storm_build - the same data in both processes. */
static void storm_build(struct storm *t)
{
    uint64_t rng = rnd_state(4);
    size_t i;

    stream_init(&t->a, 20000);
    for (i = 0; i < 200; i++)
        stream_add(&t->a, (uint32_t)rnd_below(&rng, 20001), &rng);
    stream_init(&t->big, 600000);
    for (i = 0; i < (stress ? 16u : 3u); i++) /* 16: with the rest, more than 10 MB */
        stream_add(&t->big, 300000 + (uint32_t)rnd_below(&rng, 300001), &rng);
    t->raw_size = 1 << 20;
    t->raw = malloc(t->raw_size);
    if (t->raw == NULL)
        die("malloc");
    for (i = 0; i < t->raw_size; i++)
        t->raw[i] = (unsigned char)(rnd(&rng) >> 56);
    stream_init(&t->c, 6000);
    for (i = 0; i < 300; i++)
        stream_add(&t->c, (uint32_t)rnd_below(&rng, 6001), &rng);
}

/* storm_free - release the data. */
static void storm_free(struct storm *t)
{
    stream_free(&t->a);
    stream_free(&t->big);
    stream_free(&t->c);
    free(t->raw);
}

/* storm_child - the sender, under its own storm, with a small socket buffer
 * so that sends block and come back short. Exits 0 if every send worked. */
static void storm_child(int fd, const struct storm *t)
{
    uint64_t rng = rnd_state(5);
    int small = 16384, i;

    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    alarm_storm(1);
    if (write_in_pieces(fd, t->a.bytes, t->a.size, &rng, 100) != 0)
        _exit(10);
    for (i = 0; i < t->big.n; i++) {
        unsigned char *body = t->big.bytes + t->big.body_at[i];
        size_t third = t->big.len[i] / 3;
        struct iovec parts[3];

        parts[0].iov_base = body;
        parts[0].iov_len = third;
        parts[1].iov_base = body + third;
        parts[1].iov_len = third;
        parts[2].iov_base = body + 2 * third;
        parts[2].iov_len = t->big.len[i] - 2 * third;
        if (send_framev(fd, parts, 3) != FRAME_OK)
            _exit(11);
    }
    if (write_in_pieces(fd, t->raw, t->raw_size, &rng, 100) != 0)
        _exit(12);
    if (write_in_pieces(fd, t->c.bytes, t->c.size, &rng, 100) != 0)
        _exit(13);
    _exit(0);
}

/* storm_parent - receive everything the child sends, under a storm too.
 * Returns NULL, or what went wrong (reported once the storm is over). */
static const char *storm_parent(int fd, const struct storm *t)
{
    unsigned char *buf = malloc(t->big.max_body);
    uint64_t rng = rnd_state(6);
    struct frame_reader r;
    const char *err = NULL;
    size_t pos, got = 0;
    uint32_t len;
    int i, st, delivered = 0, stopped = 0;

    if (buf == NULL)
        die("malloc");
    /* Each phase starts with a pause: the sender's small buffer fills, its
     * send blocks with nothing sent, and a signal makes it fail with EINTR. */
    storm_pause(30);
    for (i = 0; i < t->a.n && err == NULL; i++) {         /* recv_frame */
        st = recv_frame(fd, buf, t->a.max_body, &len);
        if (st != FRAME_OK)
            err = fail("recv_frame, frame %d: %s (%s)", i, status_name(st), strerror(errno));
        else if (len != t->a.len[i] || memcmp(buf, t->a.bytes + t->a.body_at[i], len) != 0)
            err = fail("recv_frame, frame %d differs", i);
    }
    for (i = 0; i < t->big.n && err == NULL; i++) {       /* sent with send_framev */
        storm_pause(30);
        st = recv_frame(fd, buf, t->big.max_body, &len);
        if (st != FRAME_OK)
            err = fail("recv_frame, big frame %d: %s (%s)", i, status_name(st), strerror(errno));
        else if (len != t->big.len[i] || memcmp(buf, t->big.bytes + t->big.body_at[i], len) != 0)
            err = fail("recv_frame, big frame %d differs", i);
    }
    for (pos = 0; pos < t->raw_size && err == NULL; ) {   /* read_exact */
        size_t n = 1 + rnd_below(&rng, 65536);

        if (rnd_below(&rng, 8) == 0)
            storm_pause(10);

        if (n > t->raw_size - pos)
            n = t->raw_size - pos;
        if (read_exact(fd, buf, n) != (ssize_t)n)
            err = fail("read_exact(%zu) at byte %zu: %s", n, pos, strerror(errno));
        else if (memcmp(buf, t->raw + pos, n) != 0)
            err = fail("read_exact: bytes %zu..%zu differ", pos, pos + n);
        pos += n;
    }
    storm_pause(30);
    frame_reader_init(&r, t->c.max_body);                 /* frame_reader_fill */
    while (err == NULL && delivered < t->c.n) {
        ssize_t n = frame_reader_fill(&r, fd);

        if (n <= 0) {
            err = fail("frame_reader_fill returned %zd (%s)", n, strerror(errno));
            break;
        }
        got += (size_t)n;
        err = drain(&r, &t->c, got, &delivered, &stopped);
    }
    if (err == NULL && frame_reader_fill(&r, fd) != 0)
        err = fail("no EOF after the last frame");
    frame_reader_free(&r);
    free(buf);
    return err;
}

/*
 * case_eintr_storm - megabytes of frames and bytes (over 10 MB with --stress)
 * between two processes, each taking a SIGALRM every millisecond: every byte
 * must arrive intact.
 */
static void case_eintr_storm(void)
{
    struct storm t;
    const char *err;
    unsigned char byte;
    int sv[2], idle[2], probe_errno, st;
    ssize_t probe;
    pid_t pid;

    storm_build(&t);
    if (make_pair(sv) < 0 || make_pair(idle) < 0)
        die("socketpair");
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(sv[0]);
        storm_child(sv[1], &t);
    }
    close(sv[1]);
    alarms = 0;
    alarm_storm(1);
    probe = read(idle[0], &byte, 1);    /* proof that the storm interrupts reads */
    probe_errno = errno;
    err = storm_parent(sv[0], &t);
    alarm_storm(0);

    CHECK_MSG(probe == -1 && probe_errno == EINTR,
              "a read on an idle socket returned %zd (%s), expected EINTR",
              probe, strerror(probe_errno));
    CHECK_MSG(err == NULL, "%s", err);
    CHECK_MSG(alarms >= 10, "only %d SIGALRMs arrived", (int)alarms);
    CHECK_MSG(t.a.size + t.big.size + t.raw_size + t.c.size > (stress ? 10u : 2u) << 20,
              "the storm moved only %zu bytes, not more than %d MB",
              t.a.size + t.big.size + t.raw_size + t.c.size, stress ? 10 : 2);
    close(sv[0]);                       /* a stuck child now gets EPIPE */
    st = child_status(pid);
    CHECK_MSG(st == 0, "sender exited with %d (10-13: a send failed in phase 1-4)", st);
    close_pair(idle);
    storm_free(&t);
}

/* ---- property test ------------------------------------------------------- */

static uint64_t prop_seed;
static int prop_rounds = 3000;

/* pick_limit - a receiver's limit: tiny, small, medium, or above the 64 KiB
 * recv chunk (rarely: those streams are big). */
static uint32_t pick_limit(uint64_t *rng)
{
    switch (rnd_below(rng, 32)) {
    case 0:  return 65536 + (uint32_t)rnd_below(rng, 70000);
    case 1: case 2: case 3: case 4: case 5: case 6: case 7:
             return (uint32_t)rnd_below(rng, 17);
    default: return (uint32_t)rnd_below(rng, 3000);
    }
}

/* pick_length - a body length, often at the edges: 0, 1, the limit, one below. */
static uint32_t pick_length(uint64_t *rng, uint32_t max)
{
    switch (rnd_below(rng, 6)) {
    case 0:  return 0;
    case 1:  return max < 1 ? max : 1;
    case 2:  return max;
    case 3:  return max > 0 ? max - 1 : 0;
    case 4:  return (uint32_t)rnd_below(rng, (max < 16 ? max : 16) + 1);
    default: return (uint32_t)rnd_below(rng, (size_t)max + 1);
    }
}

/* by_size - qsort order for cut points. */
static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * case_property - random streams, random damage, random recv boundaries.
 * Whatever the chunks, the reader hands out the frames that were sent, then
 * the error the damage calls for; recv_frame agrees with it.
 */
static void case_property(void)
{
    uint64_t rng = rnd_state(prop_seed);
    int round;

    printf("test_frame: property seed=%llu rounds=%d\n",
           (unsigned long long)prop_seed, prop_rounds);
    fflush(stdout);
    for (round = 0; round < prop_rounds && case_failures < MAX_SHOWN; round++) {
        struct stream s;
        size_t *cuts, ncuts, i;
        int nframes = (int)rnd_below(&rng, 13);
        const char *err;

        stream_init(&s, pick_limit(&rng));
        for (i = 0; i < (size_t)nframes; i++)
            stream_add(&s, pick_length(&rng, s.max_body), &rng);

        switch (rnd_below(&rng, 4)) {
        case 0:                         /* a header announces too much */
            if (s.n > 0) {
                uint32_t over = 0xFFFFFFFFu - s.max_body;
                uint32_t bad = rnd_below(&rng, 3) == 0 ? s.max_body + 1
                             : rnd_below(&rng, 2) == 0 ? 0xFFFFFFFFu
                             : s.max_body + 1 + (uint32_t)rnd_below(&rng, over);
                stream_corrupt(&s, (int)rnd_below(&rng, (size_t)s.n), bad);
            }
            break;
        case 1:                         /* the peer closes anywhere */
            s.size = rnd_below(&rng, s.size + 1);
            break;
        }

        cuts = malloc((s.size + 40) * sizeof *cuts);
        if (cuts == NULL)
            die("malloc");
        if (s.size <= 3000 && rnd_below(&rng, 8) == 0) {
            for (ncuts = 0; ncuts < s.size; ncuts++)    /* one byte at a time */
                cuts[ncuts] = ncuts + 1;
        } else {
            ncuts = rnd_below(&rng, 40);
            for (i = 0; i < ncuts; i++)
                cuts[i] = rnd_below(&rng, s.size + 1);
            qsort(cuts, ncuts, sizeof *cuts, by_size);
        }

        err = feed_push(&s, cuts, ncuts);
        CHECK_MSG(err == NULL, "seed=%llu round %d, push: %s",
                  (unsigned long long)prop_seed, round, err);
        if (round % 8 == 0) {
            err = feed_socket(&s, cuts, ncuts);
            CHECK_MSG(err == NULL, "seed=%llu round %d, fill: %s",
                      (unsigned long long)prop_seed, round, err);
        }
        if (round % 8 == 1 && s.size <= SOCKET_PIECE) {
            err = feed_recv_frame(&s);
            CHECK_MSG(err == NULL, "seed=%llu round %d: %s",
                      (unsigned long long)prop_seed, round, err);
        }
        free(cuts);
        stream_free(&s);
    }
}

/* ---- main ---------------------------------------------------------------- */

/* run - one test case: it passes if none of its checks failed. */
static void run(const char *name, void (*fn)(void))
{
    current_case = name;
    case_failures = 0;
    fn();
    if (case_failures == 0)
        cases_passed++;
    else
        cases_failed++;
}

#define RUN(fn) run(#fn, fn)

#define USAGE "usage: test_frame [--stress] [SEED [ROUNDS]]\n" \
              "  the framing module's unit tests; --stress: a full-size EINTR storm\n"

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--stress") == 0) {
        stress = 1;
        prop_rounds *= 10;
        argv++, argc--;
    }
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fputs(USAGE, stderr);
        return 2;
    }
    prop_seed = argc > 1 ? strtoull(argv[1], NULL, 10)
                         : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    if (argc > 2)
        prop_rounds = atoi(argv[2]);

    RUN(case_length_bytes);
    RUN(case_strerror);
    RUN(case_every_split_push);
    RUN(case_every_split_socket);
    RUN(case_eof_positions);
    RUN(case_limits);
    RUN(case_zero_length);
    RUN(case_send_framev);
    RUN(case_one_sendmsg);
    RUN(case_pipes);
    RUN(case_read_exact);
    RUN(case_fill);
    RUN(case_reader_memory);
    RUN(case_sigpipe);
    RUN(case_eintr_storm);
    RUN(case_property);

    printf("test_frame: %d passed, %d failed\n", cases_passed, cases_failed);
    return cases_failed == 0 ? 0 : 1;
}
