/*
 * The Robin Hood hash map.  Three primitives do the work: find_slot() walks a key's run,
 * place() inserts an absent key, remove_at() closes the gap a removal leaves.  The table is one
 * block: the slots, then one 32-bit probe distance per slot (0 marks an empty slot, so that
 * every key value stays usable).
 */
#include "lib/hashmap.h"
#include "lib/mem.h"

#define NOT_FOUND SIZE_MAX

#define BYTES_PER_SLOT (sizeof(struct hashmap_slot) + sizeof(uint32_t))

_Static_assert(HASHMAP_MAX_CAPACITY <= SIZE_MAX / BYTES_PER_SLOT, "table sizes cannot overflow");
_Static_assert(HASHMAP_MIN_CAPACITY % HASHMAP_MAX_LOAD_DEN == 0, "the load limit is exact");

const char *hashmap_status_message(enum hashmap_status status)
{
	switch (status) {
	case HASHMAP_OK:            return "ok";
	case HASHMAP_ERR_NO_MEMORY: return "out of memory";
	case HASHMAP_ERR_TOO_LARGE: return "hash map too large";
	case HASHMAP_ERR_EXISTS:    return "key already present";
	case HASHMAP_ERR_CORRUPT:   return "hash map corrupt";
	}
	return "unknown hash map status";
}

/* MurmurHash3's 64-bit finalizer (Austin Appleby, public domain): each xorshift folds high
 * bits into low ones and each odd multiply spreads low bits upwards, so every input bit
 * reaches every output bit, in particular the low bits that pick the home slot. */
uint64_t hashmap_hash64(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdu;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53u;
	key ^= key >> 33;
	return key;
}

void hashmap_init(struct hashmap *m, const struct allocator *alloc, hashmap_hash_fn *hash)
{
	*m = (struct hashmap){ .hash = hash != NULL ? hash : hashmap_hash64, .alloc = alloc };
}

/* How many entries a table of `capacity` slots may hold (0 for no table). */
static size_t max_load(size_t capacity)
{
	return capacity / HASHMAP_MAX_LOAD_DEN * HASHMAP_MAX_LOAD_NUM;
}

static size_t table_bytes(size_t capacity)
{
	return capacity * BYTES_PER_SLOT;
}

static size_t home_slot(const struct hashmap *m, uint64_t key)
{
	return (size_t)m->hash(key) & (m->capacity - 1);
}

static size_t next_slot(const struct hashmap *m, size_t i)
{
	return (i + 1) & (m->capacity - 1);
}

/*
 * The slot holding key, or NOT_FOUND.  Walks the run from the key's home, d slots from it; in
 * Robin Hood order every entry the key could sit behind is at least as far from its own home,
 * so an entry nearer home than d (or an empty slot, distance 0) ends the search.  The bound on
 * d only matters to hashmap_check on a corrupt table: a valid one always has an empty slot.
 */
static size_t find_slot(const struct hashmap *m, uint64_t key)
{
	if (m->count == 0)
		return NOT_FOUND;
	size_t i = home_slot(m, key);
	for (size_t d = 1; d <= m->capacity; d++, i = next_slot(m, i)) {
		if (m->dist[i] < d)
			return NOT_FOUND;
		if (m->dist[i] == d && m->slots[i].key == key)
			return i;
	}
	return NOT_FOUND;
}

/* Inserts an entry whose key is absent into a table with room for it.  Walking from its home,
 * the entry takes the first slot whose occupant is nearer its own home, and that occupant
 * walks on in its place, until someone reaches an empty slot. */
static void place(struct hashmap *m, struct hashmap_slot entry)
{
	size_t i = home_slot(m, entry.key);
	uint32_t d = 1;

	for (; m->dist[i] != 0; i = next_slot(m, i), d++) {
		if (m->dist[i] < d) {
			struct hashmap_slot displaced = m->slots[i];
			uint32_t displaced_d = m->dist[i];
			m->slots[i] = entry;
			m->dist[i] = d;
			entry = displaced;
			d = displaced_d;
		}
	}
	m->slots[i] = entry;
	m->dist[i] = d;
	m->count++;
}

/* Empties slot i and moves the rest of its run back one slot, each entry one step nearer its
 * home; the run ends at an empty slot or at an entry already at home. */
static void remove_at(struct hashmap *m, size_t i)
{
	for (size_t next = next_slot(m, i); m->dist[next] > 1; i = next, next = next_slot(m, next)) {
		m->slots[i] = m->slots[next];
		m->dist[i] = m->dist[next] - 1;
	}
	m->dist[i] = 0;
	m->count--;
}

/* Moves every entry into a new table of `capacity` slots, which must hold them all. */
static enum hashmap_status rehash(struct hashmap *m, size_t capacity)
{
	struct hashmap old = *m;
	struct hashmap_slot *table = allocator_alloc(m->alloc, table_bytes(capacity),
	                                             _Alignof(struct hashmap_slot));

	if (table == NULL)
		return HASHMAP_ERR_NO_MEMORY;
	m->slots = table;
	m->dist = (uint32_t *)(table + capacity);
	m->capacity = capacity;
	m->count = 0;
	memset(m->dist, 0, capacity * sizeof(*m->dist));
	for (size_t i = 0; i < old.capacity; i++)
		if (old.dist[i] != 0)
			place(m, old.slots[i]);
	if (old.capacity != 0)
		allocator_free(m->alloc, old.slots, table_bytes(old.capacity));
	return HASHMAP_OK;
}

/* The smallest table that holds `count` entries within the load limit; 0 if it is too large. */
static size_t capacity_for(size_t count)
{
	size_t capacity = HASHMAP_MIN_CAPACITY;

	while (max_load(capacity) < count) {
		if (capacity == HASHMAP_MAX_CAPACITY)
			return 0;
		capacity *= 2;
	}
	return capacity;
}

enum hashmap_status hashmap_reserve(struct hashmap *m, size_t count)
{
	if (count <= max_load(m->capacity))
		return HASHMAP_OK;
	size_t capacity = capacity_for(count);
	if (capacity == 0)
		return HASHMAP_ERR_TOO_LARGE;
	return rehash(m, capacity);
}

/* Inserts a key known to be absent, growing the table first if it is full. */
static enum hashmap_status add_absent(struct hashmap *m, uint64_t key, uint64_t value)
{
	enum hashmap_status st = hashmap_reserve(m, m->count + 1);

	if (st == HASHMAP_OK)
		place(m, (struct hashmap_slot){ .key = key, .value = value });
	return st;
}

enum hashmap_status hashmap_insert(struct hashmap *m, uint64_t key, uint64_t value)
{
	if (find_slot(m, key) != NOT_FOUND)
		return HASHMAP_ERR_EXISTS;
	return add_absent(m, key, value);
}

enum hashmap_status hashmap_put(struct hashmap *m, uint64_t key, uint64_t value)
{
	size_t i = find_slot(m, key);

	if (i == NOT_FOUND)
		return add_absent(m, key, value);
	m->slots[i].value = value;
	return HASHMAP_OK;
}

bool hashmap_get(const struct hashmap *m, uint64_t key, uint64_t *value)
{
	size_t i = find_slot(m, key);

	if (i == NOT_FOUND)
		return false;
	if (value != NULL)
		*value = m->slots[i].value;
	return true;
}

bool hashmap_remove(struct hashmap *m, uint64_t key, uint64_t *value)
{
	size_t i = find_slot(m, key);

	if (i == NOT_FOUND)
		return false;
	if (value != NULL)
		*value = m->slots[i].value;
	remove_at(m, i);
	return true;
}

void hashmap_clear(struct hashmap *m)
{
	if (m->capacity != 0)
		memset(m->dist, 0, m->capacity * sizeof(*m->dist));
	m->count = 0;
}

void hashmap_free(struct hashmap *m)
{
	if (m->capacity != 0)
		allocator_free(m->alloc, m->slots, table_bytes(m->capacity));
	hashmap_init(m, m->alloc, m->hash);
}

static size_t first_empty_slot(const struct hashmap *m)
{
	size_t i = 0;

	while (m->dist[i] != 0)
		i++;
	return i;
}

/*
 * The walk starts just after an empty slot, so it meets every run from its beginning.  Removing
 * an entry moves only entries later in its run, which the walk has not reached yet, back by one
 * slot: the walk looks at the same slot again instead of going on, and so sees every entry once.
 * The empty slot it started after stays empty and ends every run before the walk wraps to it.
 */
size_t hashmap_retain(struct hashmap *m, bool (*keep)(void *ctx, uint64_t key, uint64_t *value), void *ctx)
{
	size_t removed = 0;

	if (m->count == 0)
		return 0;
	size_t start = first_empty_slot(m);
	for (size_t n = 1; n < m->capacity;) {
		size_t i = (start + n) & (m->capacity - 1);
		if (m->dist[i] != 0 && !keep(ctx, m->slots[i].key, &m->slots[i].value)) {
			remove_at(m, i);
			removed++;
		} else {
			n++;
		}
	}
	return removed;
}

void hashmap_iter_init(struct hashmap_iter *it, const struct hashmap *m)
{
	*it = (struct hashmap_iter){ .map = m, .slot = 0 };
}

bool hashmap_iter_next(struct hashmap_iter *it, uint64_t *key, uint64_t *value)
{
	const struct hashmap *m = it->map;

	while (it->slot < m->capacity) {
		size_t i = it->slot++;
		if (m->dist[i] == 0)
			continue;
		if (key != NULL)
			*key = m->slots[i].key;
		if (value != NULL)
			*value = m->slots[i].value;
		return true;
	}
	return false;
}

/*
 * Whether the entry in slot i is at the distance its home gives and a lookup finds it there.
 * That lookup also proves Robin Hood order: had an entry nearer its home been in the way, the
 * lookup would have stopped there.  And a duplicate key is caught, since only the first copy on
 * the run can be found.
 */
static bool entry_in_place(const struct hashmap *m, size_t i)
{
	uint64_t key = m->slots[i].key;
	size_t distance = (i - home_slot(m, key)) & (m->capacity - 1);

	return m->dist[i] == distance + 1 && find_slot(m, key) == i;
}

enum hashmap_status hashmap_check(const struct hashmap *m)
{
	size_t occupied = 0;

	if (m->capacity == 0)
		return m->slots == NULL && m->count == 0 ? HASHMAP_OK : HASHMAP_ERR_CORRUPT;
	if (m->capacity < HASHMAP_MIN_CAPACITY || m->capacity > HASHMAP_MAX_CAPACITY ||
	    (m->capacity & (m->capacity - 1)) != 0 || m->count > max_load(m->capacity))
		return HASHMAP_ERR_CORRUPT;
	for (size_t i = 0; i < m->capacity; i++) {
		if (m->dist[i] == 0)
			continue;
		if (!entry_in_place(m, i))
			return HASHMAP_ERR_CORRUPT;
		occupied++;
	}
	return occupied == m->count ? HASHMAP_OK : HASHMAP_ERR_CORRUPT;
}
