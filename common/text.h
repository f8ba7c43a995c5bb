/* Text from elsewhere (test output, a dom0's answers, a manifest) made safe
 * for where it goes: an XML 1.0 document, or the user's terminal. */
#ifndef XLAB_TEXT_H
#define XLAB_TEXT_H

/* A copy of s that XML 1.0 can carry: ANSI CSI sequences (colours) are
 * dropped, and invalid UTF-8 and characters XML 1.0 forbids (C0 controls
 * but tab, newline and carriage return; U+FFFE, U+FFFF) become U+FFFD.
 * NULL gives NULL. */
char *text_xml(const char *s);
/* A copy of s fit to print on a terminal: ANSI CSI sequences are dropped,
 * and other control characters (C0 but tab and newline, DEL, C1) and
 * invalid UTF-8 become '?'. NULL gives NULL. */
char *text_term(const char *s);
/* text_term() into one of a few rotating per-thread buffers, for printf
 * arguments: valid until eight more calls on the same thread. NULL gives "". */
const char *tt(const char *s);

#endif
