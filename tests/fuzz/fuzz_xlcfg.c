/* libFuzzer harness: the xl.cfg reader behind `xlab guest create --from-xl`
 * reads files users hand it; any bytes must give entries or an error, never
 * a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct xlcfg c = { 0 };
	struct xerr e = { 0 };

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (xlcfg_parse("fuzz.cfg", text, &c, &e) == 0)
		xlcfg_free(&c);
	free(text);
	return 0;
}
