/* A teaching class, the pure part: copy names, the students' CSV, subnets for
 * every copy, the fit check, each copy's spec. No libvirt, ssh or processes:
 * the effects live in class_run.c. */
#ifndef XLAB_CLASS_H
#define XLAB_CLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

#define CLASS_MAX_COPIES 999
#define CLASS_STUDENTS_MAX_BYTES (1u << 20)
/* Disk a host of a copy takes before anyone writes: boot ISO, config disk,
 * what boot writes to the overlays, the serial log. */
#define CLASS_DISK_PER_HOST (512ull << 20)

struct class_copy {
	int idx;                        /* 1-based */
	char lab[SPEC_NAME_MAX + 1];    /* LAB-01, or LAB-STUDENT */
	char *student;                  /* NULL when numbered */
	char subnet[20];                /* "" until allocated */
};

/* LAB-01..LAB-NN (three digits past 99 copies), or LAB-STUDENT; refused when
 * the result is not a DNS label of at most 63 characters. */
int class_copy_name(const char *lab, int idx, int n, const char *student,
		    char out[SPEC_NAME_MAX + 1], struct xerr *e);

/* One student per line, the name in the first column; blank lines, '#'
 * comments and a "name"/"student" header are skipped, a field may be quoted,
 * letters are lower-cased. Each name must be a DNS label, each only once.
 * `what` names the file in messages ("students.csv:3: ..."). */
int class_students_parse(const char *what, const char *data, size_t len, char ***names,
			 struct xerr *e);

/* The copies of a class: n numbered ones, or one per student (n 0 means
 * "as many as students"; n given with students must match). */
int class_copies_make(const char *lab, int n, char *const *students,
		      struct class_copy **out, size_t *n_out, struct xerr *e);
void class_copies_free(struct class_copy *v, size_t n);

/* Gives every copy whose subnet is "" a free /24 of the pool, one after the
 * other, so copies never overlap each other or `used` (other labs). */
int class_subnets_allocate(struct class_copy *v, size_t n, char *const *used, size_t n_used,
			   struct xerr *e);

/* --only SEL: a copy's number ("7", "07"), its student or its lab name. */
int class_copy_find(const struct class_copy *v, size_t n, const char *sel, size_t *idx,
		    struct xerr *e);

struct class_fit {
	int want;               /* copies to start */
	uint64_t mem_per_copy;  /* sum of the hosts' memory */
	uint64_t mem_avail;     /* MemAvailable */
	uint64_t disk_per_copy;
	uint64_t disk_free;
	int max_fit;            /* out: the largest number of copies that fits */
};

/* Refuses (XERR_FAIL, with the figures and the largest N) when `want`
 * copies do not fit, unless overcommit. */
int class_fit_check(struct class_fit *f, bool overcommit, struct xerr *e);
/* MemAvailable of a /proc/meminfo text, in bytes; 0 when absent. */
uint64_t class_meminfo_available(const char *meminfo);
uint64_t class_spec_memory(const struct spec *s);
uint64_t class_spec_disk(const struct spec *s);

/* The spec of one copy: the class spec re-read from its bytes, with the
 * copy's lab name and subnet. Explicit addresses are refused: copies take
 * their subnets from the pool. */
int class_spec_copy(const char *path, const char *data, size_t len,
		    const struct class_copy *c, struct spec **out, struct xerr *e);

#endif
