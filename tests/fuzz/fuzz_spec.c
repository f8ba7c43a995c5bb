/* libFuzzer harness: the spec parser and validator must turn any bytes into
 * a spec or a list of errors, never a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	if (spec_load_buffer("fuzz.yaml", (const char *)data, size, &s, &d, &e) == 0)
		spec_free(s);
	spec_diags_free(&d);
	return 0;
}
