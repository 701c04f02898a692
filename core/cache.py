"""Django's cache backends, made cheaper where the page cache uses them.

`RedisCache`: Django's Redis cache, reusing one redis-py client per connection pool.
Django's backend makes a new `redis.Redis` for every cache call, and redis-py 8 builds its
table of about 170 response callbacks each time one is made: a third of a millisecond per
call, on a page cache hit whose whole cost is about a millisecond. A client is safe to share
between threads (it takes a connection from the pool for each command), so one per pool does.

`FileBasedCache`: Django's cache in a folder (the embedded default's page cache), which lists
the whole folder before every write to see whether it is full (`_cull`). Entries of past
generations stay until they expire or are culled, so the folder soon holds thousands, and
listing 5,000 took 6.5 ms here: a millisecond or more a write, and the first page after a
change writes several entries. This one looks again only after as many writes of the process
as a tenth of the entries it found (at least `CULL_EVERY`): a constant 1–2 µs a write
whatever the folder holds, and the folder holds at most about MAX_ENTRIES plus a tenth of
them per process. It also
compresses at zlib's fastest level, not its default: the discussion of a 500-comment post
(215 KB) took 2.5 ms to compress at the default and takes 0.9 at level 1, for 19 KB on disk
instead of 15 (the pages it keeps are compressed already). Entries are read as before.
"""

import itertools
import pickle
import zlib

from django.core.cache.backends.filebased import FileBasedCache as DjangoFileBasedCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(index)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


class FileBasedCache(DjangoFileBasedCache):
    CULL_EVERY = 50  # writes between looks at the folder, at least
    CULL_SHARE = 10  # …and at least its entries ÷ this, as last seen

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._writes = itertools.count(1)  # next() on it is atomic under the GIL
        self._cull_after = self.CULL_EVERY

    def _cull(self):
        if next(self._writes) >= self._cull_after:
            self._writes = itertools.count(1)
            super()._cull()

    def _list_cache_files(self):
        found = super()._list_cache_files()
        self._cull_after = max(self.CULL_EVERY, len(found) // self.CULL_SHARE)
        return found

    def _write_content(self, file, timeout, value):
        expiry = self.get_backend_timeout(timeout)
        file.write(pickle.dumps(expiry, self.pickle_protocol))
        file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol), 1))
