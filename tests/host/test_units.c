/* format_bytes: exact units, rounding down, and every magnitude up to UINT64_MAX. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "lib/rng.h"
#include "lib/units.h"

static const char *show(uint64_t bytes)
{
	static char buf[UNITS_BUF_SIZE];

	return format_bytes(buf, bytes);
}

Test(units, exact_values_have_no_decimal)
{
	cr_assert_str_eq(show(0), "0 B");
	cr_assert_str_eq(show(1023), "1023 B");
	cr_assert_str_eq(show(1024), "1 KiB");
	cr_assert_str_eq(show(636 * 1024), "636 KiB");
	cr_assert_str_eq(show(512ull << 20), "512 MiB");
	cr_assert_str_eq(show(64ull << 30), "64 GiB");
	cr_assert_str_eq(show(1ull << 60), "1 EiB");
}

Test(units, fractions_are_rounded_down)
{
	cr_assert_str_eq(show(1536), "1.5 KiB");
	cr_assert_str_eq(show(2047), "1.9 KiB");                 /* 1.999 is not 2.0 */
	cr_assert_str_eq(show(1024 + 102), "1 KiB");             /* 1.0996: the .0 is dropped */
	cr_assert_str_eq(show((4ull << 30) - 1), "3.9 GiB");
	cr_assert_str_eq(show(UINT64_MAX), "15.9 EiB");
}

/* Against a model in floating point (fine on the host) over many magnitudes. */
Test(units, matches_a_floating_point_model)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	struct rng rng = rng_seed(1);

	for (int i = 0; i < 2000; i++) {
		uint64_t bytes = rng_next(&rng) >> rng_below(&rng, 64);
		int unit = 0;
		while (unit < 6 && (bytes >> (10 * (unit + 1))) != 0)
			unit++;
		long double value = (long double)bytes / (long double)(1ull << (10 * unit));
		unsigned long whole = (unsigned long)value;
		unsigned long tenth = (unsigned long)((value - whole) * 10);
		char want[32];
		if (tenth)
			snprintf(want, sizeof(want), "%lu.%lu %s", whole, tenth, names[unit]);
		else
			snprintf(want, sizeof(want), "%lu %s", whole, names[unit]);
		cr_assert_str_eq(show(bytes), want, "bytes %llu", (unsigned long long)bytes);
	}
}
