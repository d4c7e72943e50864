/*
 * fuzz_import_apcupsd.c - libFuzzer target for the apcupsd importer
 * (sim/core/trace_import.c); the checks are import_check.h's.
 */
#include "import_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return import_check(TF_APCUPSD, data, size);
}
