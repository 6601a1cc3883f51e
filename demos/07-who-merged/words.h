/*
 * Demo 7's writes, for its client and server: small words, on six
 * connections that differ only in how the client's TCP sends them.
 *
 * Nagle's algorithm, as Linux implements it (Minshall's variant): a small
 * segment may leave unless an earlier small segment is still unacknowledged;
 * with TCP_NODELAY, it always may. TCP_CORK holds partial segments until
 * uncorked, or for 200 ms at most (tcp(7)).
 *
 *   conn 1  Nagle on, a fresh connection   hello world how are you
 *   conn 2  TCP_NODELAY                    hello world how are you
 *   conn 3  TCP_CORK, then uncorked        hello world how are you
 *   conn 4  TCP_NODELAY, paced             hello, then world once hello has arrived
 *   conn 5  Nagle on, ACK delayed          hi, then hello world while hi is unACKed
 *   conn 6  TCP_NODELAY, ACK delayed       the same
 *
 * On conns 5 and 6 the server delays its ACK of "hi" (TCP_QUICKACK 0), so an
 * earlier small segment is unacknowledged when hello and world are written.
 * If the ACK comes first anyway (a loaded machine), the client tries again
 * on a fresh connection, up to TRIES times: a retry takes the next number.
 */
#ifndef WORDS_H
#define WORDS_H

#include <string.h>

enum { NAGLE, NODELAY, CORK, PACED, NAGLE_DELAYED, NODELAY_DELAYED, MODES };
#define WORDS 5
static const char *const words[WORDS] = {"hello", "world", "how", "are", "you"};
static const char *const after_hi[] = {"hi", "hello", "world"};

#define TRIES 10 /* connections at most for each ACK-delayed row (more on a busy machine) */

/* What the server tells the client (a [sync] line) once it has set the ACK
 * mode of conn 5 or 6: both sides print the same words. */
#define ACK_DELAYED N_("delayed ACK mode on (TCP_QUICKACK 0)")
#define NO_ACK_DELAY N_("no TCP_QUICKACK here: ACKs as usual")

/*
 * After each connection, with --sync: the server sends a frame DONE once it
 * has read every byte (the client then counts its segments, and opens the
 * next connection only then, so that the two programs' lines never mix);
 * the client answers with its counts for the server's table, a frame too:
 * writes, segments, segments after "hi", bytes held after "world" (-1: not
 * measured), whether the ACK of "hi" was still outstanding (1/0), the label.
 * The sync lines of the lesson's own timing ("[sync] ...") are printed; these
 * two frames are bookkeeping, and are not.
 */
#define DONE "every byte has arrived"
#define COUNTS_FORMAT "%d %ld %ld %ld %d %s"
#define COUNTS_SCAN "%d %ld %ld %ld %d %39[^\n]"

/* delayed_ack - is this one of the rows whose "hi" the server does not ACK at once? */
static inline int delayed_ack(int mode)
{
    return mode == NAGLE_DELAYED || mode == NODELAY_DELAYED;
}

/* writes_of - how many writes a connection makes: on the paced one, only
 * "hello" and "world"; on the ACK-delayed ones, "hi", "hello" and "world". */
static inline int writes_of(int mode)
{
    return mode == PACED ? 2 : delayed_ack(mode) ? 3 : WORDS;
}

/* word_of - the i-th write of a connection. */
static inline const char *word_of(int mode, int i)
{
    return delayed_ack(mode) ? after_hi[i] : words[i];
}

/* bytes_of - the bytes those writes carry: 19 ("helloworldhowareyou"), 10 or 12. */
static inline size_t bytes_of(int mode)
{
    size_t n = 0;
    for (int i = 0; i < writes_of(mode); i++)
        n += strlen(word_of(mode, i));
    return n;
}

/* held_by_nagle - the bytes Nagle holds on conn 5 while "hi" is unACKed:
 * "hello" and "world", 10. */
static inline long held_by_nagle(void)
{
    return (long)(bytes_of(NAGLE_DELAYED) - strlen(after_hi[0]));
}

#endif
