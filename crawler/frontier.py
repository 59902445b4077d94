"""The Redis frontier: one crawl shared by a coordinator and any number of workers.

Every process of the crawl runs the same spider; what they share lives in Redis under
the ``linkaudit:`` prefix of the frontier's database (docs/distributed.md):

- the queue of requests (a sorted set: breadth-first, FIFO within a depth) and the
  requests taken from it, each with a lease that its process renews while it is alive.
  A lease that runs out (the process was killed) puts the request back in the queue.
  scrapy-redis pops a request for good, so a killed worker would lose what it held;
  its request encoding (``scrapy_redis.queue.Base``) is what this queue builds on.
- the page URLs scheduled (the seen set), the count that ``max_pages`` holds against,
  and the URLs fetched, so that a page is fetched once across all the processes;
- one politeness slot for the site: the delay between two requests and the number of
  requests at a time hold for the crawl as a whole, not per process;
- the page records on their way to the coordinator, the only process with the store.

A request is acknowledged only once what it produced is in Redis: first the requests it
led to, then its record and its acknowledgement in one transaction.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import random
import socket
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
import scrapy
from scrapy import signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy_redis import picklecompat
from scrapy_redis.queue import Base as RedisQueueBase
from twisted.internet import defer, task

from linkaudit.crawler.extensions import PAGE_STORED
from linkaudit.crawler.items import PageItem
from linkaudit.crawler.options import CrawlOptions, check_frontier_url
from linkaudit.crawler.pipelines import StorePipeline, write_item
from linkaudit.crawler.spiders.site import SITEMAP_PRIORITY, SiteSpider

log = logging.getLogger(__name__)

PREFIX = "linkaudit:"
DEFAULT_LEASE = 30.0  # seconds a taken request stays taken without its process renewing it
SETTING_URL = "LINKAUDIT_FRONTIER"
SETTING_ROLE = "LINKAUDIT_FRONTIER_ROLE"  # coordinator or worker
SETTING_WORKER = "LINKAUDIT_WORKER_ID"
SETTING_LEASE = "LINKAUDIT_FRONTIER_LEASE"
SWITCH_INTERVAL = 0.0005  # seconds: see Frontier.__init__
LOST = "frontier_lost"  # the finish reason of a crawl whose Redis went away


class FrontierError(Exception):
    """Redis cannot be reached, or holds no usable crawl; the message is one line."""


class FrontierBusy(FrontierError):
    """Another crawl is running on the frontier."""


def key(name: str) -> str:
    return PREFIX + name


K_META = key("meta")  # hash: token, start_url, crawl_id, options (JSON), lease
K_QUEUE, K_TAKEN, K_OWNER = key("queue"), key("taken"), key("owner")
K_SEEN, K_PENDING, K_COUNT, K_FETCHED = key("seen"), key("sitemap"), key("count"), key("fetched")
K_FPS, K_SEQ, K_ITEMS = key("fingerprints"), key("seq"), key("items")
K_CUTS, K_CUT_URLS, K_CUT_EXAMPLES = key("cuts"), key("cut_urls"), key("cut_examples")
K_SLOT_NEXT, K_SLOT_ACTIVE = key("slot:next"), key("slot:active")
K_COORDINATOR, K_DONE, K_WORKERS = key("coordinator"), key("done"), key("workers")
ALL_KEYS = (K_META, K_QUEUE, K_TAKEN, K_OWNER, K_SEEN, K_PENDING, K_COUNT, K_FETCHED, K_FPS,
            K_SEQ, K_ITEMS, K_CUTS, K_CUT_URLS, K_CUT_EXAMPLES, K_SLOT_NEXT, K_SLOT_ACTIVE,
            K_COORDINATOR, K_DONE, K_WORKERS)

_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# Take the first request; a page another request already fetched is dropped on the way.
POP = _NOW + """
for i = 1, 100 do
  local m = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not m then return false end
  local score = redis.call('ZSCORE', KEYS[1], m)
  redis.call('ZREM', KEYS[1], m)
  local page = string.sub(m, 1, 1) == 'P'
  local url = string.sub(m, 2, string.find(m, '\\n', 1, true) - 1)
  if not page or redis.call('SADD', KEYS[4], url) == 1 then
    if page then redis.call('SREM', KEYS[5], url) end
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), m)
    redis.call('HSET', KEYS[3], m, ARGV[2] .. '|' .. score)
    return m
  end
end
return false
"""

# Requests whose lease ran out go back to the queue, where they were.
RECLAIM = _NOW + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
for _, m in ipairs(expired) do
  local owner = redis.call('HGET', KEYS[2], m) or '|0'
  local score = string.sub(owner, string.find(owner, '|', 1, true) + 1)
  redis.call('ZREM', KEYS[1], m)
  redis.call('HDEL', KEYS[2], m)
  if string.sub(m, 1, 1) == 'P' then
    redis.call('SREM', KEYS[4], string.sub(m, 2, string.find(m, '\\n', 1, true) - 1))
  end
  redis.call('ZADD', KEYS[3], score, m)
end
return #expired
"""

# Leases (and politeness-slot tokens) of a live process are renewed.
RENEW = _NOW + """
for _, m in ipairs(ARGV) do
  if redis.call('ZSCORE', KEYS[1], m) then
    redis.call('ZADD', KEYS[1], now + tonumber(KEYS[2]), m)
  end
end
return 0
"""

# Page requests: seen set, sitemap-only set, max_pages count and queue in one step, so
# that a URL is never marked seen without being queued. ARGV: max_pages, then per URL
# url, has-depth (1/0), force (1/0), the local limit that cuts it ('' if none), depth
# rank, member. Returns one verdict per URL, then the count.
ADMIT = """
local max = tonumber(ARGV[1])
local out = {}
local count = tonumber(redis.call('GET', KEYS[3]) or '0')
for i = 2, #ARGV, 6 do
  local url, hasdepth, force, cut = ARGV[i], ARGV[i + 1] == '1', ARGV[i + 2] == '1', ARGV[i + 3]
  local seen = redis.call('SISMEMBER', KEYS[1], url) == 1
  local upgrade = hasdepth and seen and redis.call('SISMEMBER', KEYS[2], url) == 1
  local verdict
  if seen and not upgrade then
    verdict = 's'
  elseif not upgrade and not force and count >= max then
    verdict = 'max_pages'
  elseif cut ~= '' then
    verdict = cut
  else
    if upgrade then
      redis.call('SREM', KEYS[2], url)
      verdict = 'u'
    else
      redis.call('SADD', KEYS[1], url)
      count = redis.call('INCR', KEYS[3])
      if not hasdepth then redis.call('SADD', KEYS[2], url) end
      verdict = 'q'
    end
    local seq = redis.call('INCR', KEYS[5])
    redis.call('ZADD', KEYS[4], tonumber(ARGV[i + 4]) * 1000000000 + seq, ARGV[i + 5])
  end
  if verdict ~= 's' and verdict ~= 'q' and verdict ~= 'u' then
    if redis.call('SADD', KEYS[6], verdict .. '\\n' .. url) == 1 then
      redis.call('HINCRBY', KEYS[7], verdict, 1)
      redis.call('HSETNX', KEYS[8], verdict, url)
    end
  end
  out[#out + 1] = verdict
end
out[#out + 1] = tostring(count)
return out
"""

# Other requests (robots.txt, sitemaps): Scrapy's fingerprint filter, shared.
ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) * 1000000000 + seq, ARGV[3])
return 1
"""

# The site's one politeness slot: 0 when a request may start now, else ms to wait.
ACQUIRE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 10 end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < nxt then return nxt - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
return 0
"""

# The crawl is over when nothing is queued, taken or on its way to the store.
IDLE = """
return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('LLEN', KEYS[3])
"""


def _rank(priority: int) -> int:
    """Scrapy's priority as a queue score: depth (or the sitemap rank), lowest first; the
    scripts add the order of arrival below it."""
    return -priority


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def lease_from_url(url: str) -> float:
    """The ``?lease=SECONDS`` of a frontier URL (how soon a killed worker's requests return)."""
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(url).query).get("lease")
    return float(values[-1]) if values else DEFAULT_LEASE


def redis_url(url: str) -> str:
    """The URL without linkaudit's own ``lease`` parameter, for redis-py."""
    from urllib.parse import parse_qsl, urlencode

    # Cut by hand: urlunsplit would write unix:///path (no host) as unix:/path, which
    # redis-py refuses.
    head, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sign, fragment = rest.partition("#")
    kept = urlencode([(k, v) for k, v in parse_qsl(query) if k != "lease"])
    return head + (f"?{kept}" if kept else "") + hash_sign + fragment


def describe(url: str) -> str:
    """The frontier URL as it may be printed (without a password)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def connect(url: str) -> redis.Redis:
    """A client of the frontier's Redis, checked with a PING; FrontierError says why not."""
    check_frontier_url(url)
    try:
        client = redis.Redis.from_url(redis_url(url), socket_connect_timeout=5,
                                      socket_timeout=30, health_check_interval=0)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise FrontierError(f"cannot reach the frontier {describe(url)}: {_reason(exc)}") from exc
    return client


@dataclass(frozen=True, slots=True)
class CrawlOnFrontier:
    """What a worker needs to join the crawl: the coordinator's settings."""

    token: str
    start_url: str
    crawl_id: int
    options: CrawlOptions
    lease: float


def options_from(data: dict[str, Any]) -> CrawlOptions:
    known = set(CrawlOptions.__dataclass_fields__)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return CrawlOptions(**values)


def read_crawl(client: redis.Redis) -> CrawlOnFrontier | None:
    """The crawl running on the frontier (None: none, or it is over, or its coordinator
    is gone)."""
    pipe = client.pipeline()
    pipe.hgetall(K_META).exists(K_DONE).exists(K_COORDINATOR)
    meta, done, alive = pipe.execute()
    if not meta or done or not alive:
        return None
    meta = {k.decode(): v.decode() for k, v in meta.items()}
    return CrawlOnFrontier(token=meta["token"], start_url=meta["start_url"],
                           crawl_id=int(meta["crawl_id"]),
                           options=options_from(json.loads(meta["options"])),
                           lease=float(meta["lease"]))


def begin_crawl(url: str, start_url: str, crawl_id: int, options: CrawlOptions,
                done: Iterable[str] = (), takeover: bool = False) -> None:
    """The coordinator's first step: the frontier is emptied and holds this crawl.

    A crawl already running there (its coordinator alive) is a FrontierBusy, unless
    ``takeover`` and it is this site's (a resumed crawl whose coordinator was killed). A
    resumed crawl starts from its store, like a resumed embedded crawl: the URLs it
    recorded are the seen set, and its frontier is queued again by the spider.
    """
    client = connect(url)
    lease = lease_from_url(url)
    try:
        running = (client.hget(K_META, "start_url") or b"?").decode()
        if client.exists(K_COORDINATOR) and not client.exists(K_DONE) and not (
                takeover and running == start_url):
            raise FrontierBusy(f"another crawl ({running}) is running on the frontier "
                               f"{describe(url)}; nothing done")
        client.delete(*ALL_KEYS)
        done = list(done)
        for i in range(0, len(done), 10_000):
            client.sadd(K_SEEN, *done[i:i + 10_000])
            client.sadd(K_FETCHED, *done[i:i + 10_000])
        pipe = client.pipeline(transaction=True)
        pipe.set(K_COUNT, len(done))
        pipe.set(K_COORDINATOR, worker_id(), px=int(lease * 2000))
        pipe.hset(K_META, mapping={
            "token": f"{crawl_id}-{time.time():.6f}", "start_url": start_url,
            "crawl_id": crawl_id, "options": json.dumps(options.as_setting()),
            "lease": lease})
        pipe.execute()
    except redis.RedisError as exc:
        raise FrontierError(f"the frontier {describe(url)} failed: {_reason(exc)}") from exc
    finally:
        client.close()


class Frontier:
    """One process's handle on the shared crawl (one per Scrapy crawler)."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.url = settings.get(SETTING_URL)
        self.role = settings.get(SETTING_ROLE, "worker")
        self.worker = settings.get(SETTING_WORKER) or worker_id()
        self.lease = settings.getfloat(SETTING_LEASE, DEFAULT_LEASE)
        self.lease_ms = int(self.lease * 1000)
        self.options = CrawlOptions.from_settings(settings)
        self.client = redis.Redis.from_url(redis_url(self.url), socket_connect_timeout=5,
                                           socket_timeout=30)
        self.scripts = {name: self.client.register_script(text) for name, text in (
            ("pop", POP), ("reclaim", RECLAIM), ("renew", RENEW), ("admit", ADMIT),
            ("enqueue", ENQUEUE), ("acquire", ACQUIRE), ("idle", IDLE))}
        # Each Redis call gives the GIL away while it waits for the answer; taking it back
        # from a page being parsed in Scrapy's thread pool takes a whole switch interval
        # (5 ms by default), several times per page.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.token: str | None = None
        self.lost: str | None = None  # why Redis can no longer be used
        self.done = False
        self.held: dict[bytes, float] = {}  # leases of this process
        self.acks: dict[str, bytes] = {}  # page URL -> its lease, until its record is sent
        self.slots: set[str] = set()  # politeness-slot tokens of this process's downloads
        self.pages_sent = 0
        self.seeded = False

    @classmethod
    def of(cls, crawler: Any) -> Frontier:
        frontier = getattr(crawler, "_linkaudit_frontier", None)
        if frontier is None:
            if not crawler.settings.get(SETTING_URL):
                raise NotConfigured("no frontier")
            frontier = cls(crawler)
            crawler._linkaudit_frontier = frontier
        return frontier

    # -- failures ------------------------------------------------------------------

    def guard(self, action: Callable[[], Any], default: Any = None) -> Any:
        """Run one Redis action; a Redis failure stops this process's crawl, once."""
        if self.lost:
            return default
        try:
            return action()
        except redis.RedisError as exc:
            self.fail(f"lost the frontier {describe(self.url)}: {_reason(exc)}")
            return default

    def fail(self, message: str) -> None:
        if self.lost:
            return
        self.lost = message
        log.info("%s", message)  # the command prints it, once
        from twisted.internet import reactor

        engine = self.crawler.engine
        if engine is not None and self.crawler.spider is not None:
            reactor.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(
                reason=LOST)))

    # -- the queue ---------------------------------------------------------------------

    def admit(self, entries: list[tuple[str, bool, bool, str, int, bytes]],
              max_pages: int) -> tuple[list[str], int]:
        """Schedule page requests: (url, has depth, force, cut, rank, member) each."""
        if not entries:
            return [], 0
        args: list[Any] = [max_pages]
        for url, has_depth, force, cut, rank, member in entries:
            args += [url, int(has_depth), int(force), cut, rank, member]
        keys = [K_SEEN, K_PENDING, K_COUNT, K_QUEUE, K_SEQ, K_CUT_URLS, K_CUTS, K_CUT_EXAMPLES]
        out = self.guard(lambda: self.scripts["admit"](keys=keys, args=args))
        if out is None:
            return ["s"] * len(entries), 0
        verdicts = [v.decode() for v in out]
        return verdicts[:-1], int(verdicts[-1])

    def enqueue(self, fingerprint: str, rank: int, member: bytes) -> bool:
        keys = [K_FPS, K_QUEUE, K_SEQ]
        return bool(self.guard(lambda: self.scripts["enqueue"](
            keys=keys, args=[fingerprint, rank, member]), False))

    def pop(self) -> bytes | None:
        if self.done or self.lost:
            return None
        keys = [K_QUEUE, K_TAKEN, K_OWNER, K_FETCHED, K_PENDING]
        member = self.guard(lambda: self.scripts["pop"](
            keys=keys, args=[self.lease_ms, self.worker]))
        if member:
            self.held[member] = time.monotonic()
        return member or None

    def ack(self, member: bytes, item: PageItem | None = None) -> None:
        """The request is finished: its record (if any) goes with the acknowledgement."""
        self.held.pop(member, None)

        def send() -> None:
            pipe = self.client.pipeline(transaction=True)
            if item is not None:
                pipe.rpush(K_ITEMS, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
                pipe.hincrby(K_WORKERS, self.worker, 1)
            pipe.zrem(K_TAKEN, member).hdel(K_OWNER, member).zrem(K_QUEUE, member)
            pipe.execute()

        self.guard(send)
        if item is not None and not self.lost:
            self.pages_sent += 1

    def deliver(self, item: PageItem) -> None:
        member = self.acks.pop(item.url, None)
        if member is None:  # not a leased request's record (never expected)
            self.guard(lambda: self.client.rpush(K_ITEMS, pickle.dumps(item)))
            self.pages_sent += 1
            return
        self.ack(member, item)

    # -- upkeep ------------------------------------------------------------------------

    def tick(self) -> None:
        """Renew this process's leases; the coordinator also reclaims, checks the end and
        says it is alive; a worker checks that the crawl is still on."""
        if self.lost or self.done:
            return
        held, slots = list(self.held), list(self.slots)
        if held:
            self.guard(lambda: self.scripts["renew"](keys=[K_TAKEN, self.lease_ms], args=held))
        if slots:
            self.guard(lambda: self.scripts["renew"](keys=[K_SLOT_ACTIVE, self.lease_ms],
                                                     args=slots))
        if self.role == "coordinator":
            self.guard(self._coordinate)
        else:
            self.guard(self._follow_crawl)

    def _coordinate(self) -> None:
        self.client.set(K_COORDINATOR, self.worker, px=self.lease_ms * 2)
        if self.client.hget(K_META, "token") is None:
            self.fail(f"the frontier {describe(self.url)} lost the crawl's data "
                      "(was Redis restarted?)")
            return
        self.scripts["reclaim"](keys=[K_TAKEN, K_OWNER, K_QUEUE, K_FETCHED])
        if self.seeded and not self.held:
            if int(self.scripts["idle"](keys=[K_QUEUE, K_TAKEN, K_ITEMS])) == 0:
                self.finish("finished")

    def _follow_crawl(self) -> None:
        pipe = self.client.pipeline()
        pipe.exists(K_DONE).exists(K_COORDINATOR).hget(K_META, "token")
        done, alive, token = pipe.execute()
        token = token.decode() if token else None
        if self.token is None:
            self.token = token
        if done:
            self.done = True
        elif not alive or token != self.token:
            self.fail("the coordinator of the crawl is gone: stopped")

    def finish(self, reason: str) -> None:
        """The coordinator ends the crawl for every process (workers see it and stop)."""
        self.done = True
        self.guard(lambda: self.client.set(K_DONE, reason))

    def pop_items(self, limit: int = 500) -> list[PageItem]:
        raw = self.guard(lambda: self.client.lpop(K_ITEMS, limit)) or []
        return [pickle.loads(blob) for blob in raw]

    def cuts(self) -> tuple[dict[str, int], dict[str, str]]:
        def read() -> tuple[dict[str, int], dict[str, str]]:
            counts = {k.decode(): int(v) for k, v in self.client.hgetall(K_CUTS).items()}
            examples = {k.decode(): v.decode()
                        for k, v in self.client.hgetall(K_CUT_EXAMPLES).items()}
            return counts, examples
        return self.guard(read, ({}, {}))

    def acquire(self, token: str) -> int:
        """Ask the site's slot for one request: 0 to go now, else milliseconds to wait."""
        delay_ms = int(self.options.delay * random.uniform(0.5, 1.5) * 1000)
        concurrency = max(self.options.concurrency, 1)
        wait = int(self.guard(lambda: self.scripts["acquire"](
            keys=[K_SLOT_NEXT, K_SLOT_ACTIVE],
            args=[concurrency, delay_ms, token, self.lease_ms]), 0))
        if wait <= 0:
            self.slots.add(token)
        return wait

    def release(self, token: str) -> None:
        self.slots.discard(token)
        self.guard(lambda: self.client.zrem(K_SLOT_ACTIVE, token))


class RequestCodec(RedisQueueBase):
    """scrapy-redis's request encoding (``Request.to_dict``, pickled), for queue members.

    A member is ``P<url>\\n<request>`` for a page (so that Redis can tell which page it is)
    and ``R\\n<request>`` for anything else.
    """

    def __init__(self, server: Any, spider: Any) -> None:
        super().__init__(server, spider, key("queue"), picklecompat)

    def member(self, request: scrapy.Request) -> bytes:
        page = request.meta.get("la_page")
        head = ("P" + request.meta.get("la_url", request.url)) if page else "R"
        return head.encode() + b"\n" + self._encode_request(request)

    def request(self, member: bytes) -> scrapy.Request:
        return self._decode_request(member.split(b"\n", 1)[1])


class FrontierScheduler(BaseScheduler):
    """Scrapy's scheduler over the Redis queue: requests are leased, not popped."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.frontier = Frontier.of(crawler)
        self.local: deque[scrapy.Request] = deque()  # retries of requests this process holds
        self.codec: RequestCodec | None = None
        self.loop: task.LoopingCall | None = None
        self.kick: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        return cls(crawler)

    def open(self, spider: Any) -> None:
        self.codec = RequestCodec(self.frontier.client, spider)
        spider.frontier = self.frontier
        spider.codec = self.codec
        self.loop = task.LoopingCall(self.frontier.tick)
        self.loop.start(min(max(self.frontier.lease / 4, 0.05), 1.0), now=True)
        # Scrapy asks an empty scheduler again only every 5 s: work that other processes
        # queue is picked up sooner.
        self.kick = task.LoopingCall(self._kick)
        self.kick.start(0.05, now=False)

    def _kick(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def close(self, reason: str) -> None:
        for loop in (self.loop, self.kick):
            if loop is not None and loop.running:
                loop.stop()

    def has_pending_requests(self) -> bool:
        if self.frontier.lost:
            return False
        return bool(self.local) or not self.frontier.done

    def enqueue_request(self, request: scrapy.Request) -> bool:
        if request.meta.get("la_lease"):  # a retry: this process keeps its lease
            self.local.append(request)
            return True
        assert self.codec is not None
        fingerprint = "" if request.dont_filter else \
            self.crawler.request_fingerprinter.fingerprint(request).hex()
        return self.frontier.enqueue(fingerprint, _rank(request.priority),
                                     self.codec.member(request))

    def next_request(self) -> scrapy.Request | None:
        if self.local:
            return self.local.popleft()
        member = self.frontier.pop()
        if member is None:
            return None
        assert self.codec is not None
        try:
            request = self.codec.request(member)
        except Exception as exc:  # noqa: BLE001 - written by another version of linkaudit
            log.warning("unreadable request on the frontier dropped: %s", _reason(exc))
            self.frontier.ack(member)
            return None
        return self._leased(request, member)

    def _leased(self, request: scrapy.Request, member: bytes) -> scrapy.Request:
        """The request, with callbacks that acknowledge its lease when they are done."""
        spider = self.crawler.spider
        callback = request.callback or spider._parse
        errback = request.errback or _no_output
        meta = {**request.meta, "la_lease": True}
        return request.replace(callback=self._finishing(callback, member),
                               errback=self._finishing(errback, member), meta=meta)

    def _finishing(self, func: Callable[..., Any], member: bytes
                   ) -> Callable[..., AsyncIterator[Any]]:
        frontier = self.frontier

        async def run(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            records: list[Any] = []
            try:
                result = func(*args, **kwargs)
                if hasattr(result, "__aiter__"):
                    async for output in result:
                        if isinstance(output, scrapy.Request):
                            yield output
                        else:
                            records.append(output)
                elif hasattr(result, "__await__"):
                    await result
                elif result is not None:
                    for output in result:
                        if isinstance(output, scrapy.Request):
                            yield output
                        else:
                            records.append(output)
            except Exception:
                frontier.ack(member)
                raise
            # The requests it led to are queued: now its record, with the acknowledgement.
            pages = [r for r in records if isinstance(r, PageItem)]
            if not pages:
                frontier.ack(member)
            for record in records:
                if isinstance(record, PageItem):
                    frontier.acks[record.url] = member
                yield record

        return run

    def __len__(self) -> int:
        return len(self.local) + int(self.frontier.guard(
            lambda: self.frontier.client.zcard(K_QUEUE), 0))


def _no_output(failure: Any) -> None:
    return None


class SharedSlotMiddleware:
    """The site's politeness across processes: every request waits for the shared slot.

    Runs last before the download, so a request that another middleware drops never
    takes the slot; the slot is given back when its answer (or failure) arrives.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.frontier = Frontier.of(crawler)
        self.counter = 0
        self.turn = defer.DeferredLock()  # one request of the process asks at a time

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedSlotMiddleware:
        return cls(crawler)

    async def process_request(self, request: scrapy.Request) -> None:
        from twisted.internet import reactor

        self.counter += 1
        token = f"{self.frontier.worker}:{self.counter}"
        await maybe_deferred_to_future(self.turn.acquire())
        try:
            while True:
                wait = self.frontier.acquire(token)
                if wait <= 0:
                    break
                await maybe_deferred_to_future(task.deferLater(reactor, min(wait, 250) / 1000))
        finally:
            self.turn.release()
        request.meta["la_slot"] = token
        return None

    def process_response(self, request: scrapy.Request, response: Any) -> Any:
        self._release(request)
        return response

    def process_exception(self, request: scrapy.Request, exception: Exception) -> None:
        self._release(request)
        return None

    def _release(self, request: scrapy.Request) -> None:
        token = request.meta.pop("la_slot", None)
        if token:
            self.frontier.release(token)


class FrontierPipeline:
    """A worker's records go to Redis, each with the acknowledgement of its request."""

    def __init__(self, crawler: Any) -> None:
        self.frontier = Frontier.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            raise TypeError(f"unexpected item type {type(item).__name__}")
        self.frontier.deliver(item)
        return item


class CoordinatorPipeline(StorePipeline):
    """The coordinator's records go the same way; it alone writes them all to the store."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.frontier = Frontier.of(crawler)
        self.written: set[str] = set()
        self.loop: task.LoopingCall | None = None

    def open_spider(self) -> None:
        super().open_spider()
        self.written = set(getattr(self.crawler.spider, "resume_done", ()) or ())
        self.loop = task.LoopingCall(self.drain)
        self.loop.start(0.1, now=False)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            raise TypeError(f"unexpected item type {type(item).__name__}")
        self.frontier.deliver(item)
        return item

    def drain(self) -> None:
        """Write the records that arrived (a page fetched twice is written once)."""
        while self.conn is not None:
            items = self.frontier.pop_items()
            for item in items:
                if item.url in self.written:
                    continue
                self.written.add(item.url)
                write_item(self.conn, self.crawl_id, item, self.site)
                self.crawler.signals.send_catch_log(PAGE_STORED, item=item)
            if len(items) < 500:
                return

    def spider_closed(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.drain()
        if not self.frontier.done and not self.frontier.lost:
            self.frontier.finish(reason)  # the workers stop with the coordinator
        counts, examples = self.frontier.cuts()
        stats = self.crawler.stats
        if stats is not None:
            for limit, count in counts.items():
                stats.set_value(f"linkaudit/cut/{limit}", count)
                if limit in examples:
                    stats.set_value(f"linkaudit/cut/{limit}/example", examples[limit])
        super().spider_closed(reason)


class DistributedSiteSpider(SiteSpider):
    """The site spider over the frontier: scheduling decisions are taken in Redis.

    The coordinator seeds the crawl (start URL, resumed frontier, robots.txt and
    sitemaps); workers start with nothing and take requests from the queue.
    """

    name = "site"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known: set[str] = set()  # seen for good (not a sitemap-only URL that a link
        # may still reach at its click depth): no need to ask Redis again
        self.frontier: Frontier | None = None
        self.codec: RequestCodec | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedSiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.previous is not None:  # workers have no store to answer a 304 from
            spider.previous.close()
            spider.previous = None
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        return spider

    def _opened(self) -> None:
        self.frontier = Frontier.of(self.crawler)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        frontier = Frontier.of(self.crawler)
        if frontier.role != "coordinator":
            return
        for request in self._start_requests():
            yield request
        frontier.seeded = True

    def _schedule(self, url: str, depth: int | None, found_via: str, referrer: str | None,
                  force: bool = False) -> Iterator[scrapy.Request]:
        self._admit([(url, depth, found_via, referrer, force)])
        return iter(())

    def _follow(self, item: PageItem, depth: int | None) -> Iterator[scrapy.Request]:
        extract = item.extract
        targets = [link.target for link in extract.links if link.target]
        if extract.canonical:
            targets.append(extract.canonical)
        fresh = [t for t in dict.fromkeys(targets) if t not in self.known and self._internal(t)]
        self._admit([(t, depth, "link", item.url, False) for t in fresh])
        return iter(())

    def _admit(self, entries: list[tuple[str, int | None, str, str | None, bool]]) -> None:
        frontier = Frontier.of(self.crawler)
        if self.codec is None:
            self.codec = RequestCodec(frontier.client, self)
        batch = []
        for url, depth, found_via, referrer, force in entries:
            if self._declined(url, depth, found_via, force):
                continue
            cut = ""
            if depth is not None and depth > self.max_depth:
                cut = "max_depth"
            elif len(url) > self.max_url_length:
                cut = "max_url_length"
            priority = SITEMAP_PRIORITY if depth is None else -depth
            request = scrapy.Request(
                url, callback=self.parse, errback=self.on_error, priority=priority,
                dont_filter=True,
                meta={"la_page": True, "la_url": url, "la_depth": depth,
                      "la_found_via": found_via, "la_referrer": referrer})
            batch.append((url, depth is not None, force, cut, _rank(priority),
                          self.codec.member(request)))
        verdicts, count = frontier.admit(batch, self.max_pages)
        if count:
            self.scheduled_pages = count
        for (url, has_depth, *_), verdict in zip(batch, verdicts, strict=True):
            if has_depth and verdict in ("s", "q", "u"):
                self.known.add(url)
