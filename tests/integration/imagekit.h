/* A scratch image store and a tiny image for the `xlab image` tests: each
 * test gets its own store ($XLAB_HOME, home) and work directory (work), made
 * by imagekit_setup (the suite's .init) and removed by imagekit_teardown
 * (its .fini), whether or not the test got to its end. */
#ifndef XLAB_TEST_IMAGEKIT_H
#define XLAB_TEST_IMAGEKIT_H

#include <stddef.h>

extern char home[64], work[64];
/* The files of the tiny image besides manifest.json. */
extern const char *const image_files[4];

void imagekit_setup(void);
void imagekit_teardown(void);

void write_file(const char *path, const void *data, size_t len);
/* The image `name` unpacked in dir: its manifest and image_files, the
 * first of them large and incompressible. */
void make_image(const char *dir, const char *name);
/* Everything in the store's images/, each name followed by a space; ""
 * when empty. */
char *store_listing(void);

#endif
