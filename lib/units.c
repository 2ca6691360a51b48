#include "lib/units.h"

#include "lib/format.h"

static const char *const unit_names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

const char *format_bytes(char buf[UNITS_BUF_SIZE], uint64_t bytes)
{
	unsigned unit = 0;

	while (unit + 1 < sizeof(unit_names) / sizeof(unit_names[0]) && bytes >> (10 * (unit + 1)) != 0)
		unit++;
	uint64_t whole = bytes >> (10 * unit);
	uint64_t rest = bytes - (whole << (10 * unit));
	/* Tenths, rounded down.  rest < 2^60, so rest * 10 cannot overflow. */
	uint64_t tenth = (rest * 10) >> (10 * unit);

	if (tenth == 0)
		format_buf(buf, UNITS_BUF_SIZE, "%lu %s", (unsigned long)whole, unit_names[unit]);
	else
		format_buf(buf, UNITS_BUF_SIZE, "%lu.%lu %s", (unsigned long)whole, (unsigned long)tenth, unit_names[unit]);
	return buf;
}
