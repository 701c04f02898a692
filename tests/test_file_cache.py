"""The embedded default's page cache in a folder (core.cache.FileBasedCache): what it keeps
comes back whole, entries written by Django's own backend (before an upgrade) still read,
and the folder stays bounded."""

from django.core.cache.backends.filebased import FileBasedCache as DjangoFileBasedCache

from core.cache import FileBasedCache

DISCUSSION = "<li>Open the library on Sundays, please. &amp; thank you</li>\n" * 3000


def test_an_entry_comes_back_whole(tmp_path):
    cache = FileBasedCache(str(tmp_path), {})
    cache.set("discussion", DISCUSSION, 60)
    cache.set("counts", {"threads": 147, "likes": 3}, 60)
    assert cache.get("discussion") == DISCUSSION
    assert cache.get("counts") == {"threads": 147, "likes": 3}
    assert cache.get("missing") is None


def test_entries_written_by_djangos_backend_are_read_and_the_other_way_round(tmp_path):
    ours, djangos = FileBasedCache(str(tmp_path), {}), DjangoFileBasedCache(str(tmp_path), {})
    djangos.set("old", DISCUSSION, 60)
    assert ours.get("old") == DISCUSSION
    ours.set("new", DISCUSSION, 60)
    assert djangos.get("new") == DISCUSSION


def test_an_entry_is_compressed_quickly_but_still_compressed(tmp_path):
    cache = FileBasedCache(str(tmp_path), {})
    cache.set("discussion", DISCUSSION, 60)
    (entry,) = tmp_path.glob("*.djcache")
    assert entry.stat().st_size < len(DISCUSSION) / 20


def test_the_folder_stays_bounded_though_culled_only_every_so_many_writes(tmp_path):
    cache = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    for n in range(FileBasedCache.CULL_EVERY * 2):
        cache.set(f"entry-{n}", n, 60)
    assert len(list(tmp_path.glob("*.djcache"))) <= 10 + FileBasedCache.CULL_EVERY


def test_a_full_folder_is_listed_once_every_tenth_of_its_entries_and_stays_bounded(tmp_path):
    """Listing the folder costs in proportion to its entries: it is looked at again only after
    a tenth of them have been written, so a write costs the same whatever the folder holds."""
    cache = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 1000, "CULL_FREQUENCY": 3}})
    listings = []
    list_files = cache._list_cache_files

    def counted():
        found = list_files()
        listings.append(len(found))
        return found

    cache._list_cache_files = counted
    for n in range(3000):
        cache.set(f"entry-{n}", n, 60)
        entries = len(list(tmp_path.glob("*.djcache"))) if n % 100 == 0 else None
        assert entries is None or entries <= 1000 + 1000 // FileBasedCache.CULL_SHARE + 1
    # Fifty writes before the first look; then a tenth of what each look found.
    assert listings[0] == FileBasedCache.CULL_EVERY - 1
    assert len(listings) < 3000 / 60
    assert max(listings) <= 1000 + 1000 // FileBasedCache.CULL_SHARE
