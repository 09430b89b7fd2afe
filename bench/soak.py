"""Soak: a real Mendel under a bounded mixed load for minutes; errors, latency, memory.

    .venv/bin/python bench/soak.py [--minutes 10] [--users 30] [--json]

The server is what ``make run`` starts (``python -m mendel.serve``: migrations, first-start
set-up, uvicorn with the in-process job worker and in-process inference on the CPU), on a
fresh embedded PostgreSQL and media folder in a temporary directory, so a developer's
``var/`` is left alone. The load starts once the first-start gene discovery is done (the
gene sliders need it).

The simulated people (``--users``) arrive over the first 30 s:
- ``--signups`` of them are new visitors who sign up through the sign-up form (CSRF);
- every other one is created beforehand in the server's database (``manage.py shell``: one
  password hash for all, since hashing is slow on purpose; a sign-up throttle would refuse
  that many sign-ups from one address). Of those, one in five is an API client with a
  token; the rest log in through the login form and behave as the browser does: session
  cookie, ``X-CSRFToken`` on API calls, pictures fetched as the pages show them (at most six
  at a time, none twice), and a studio socket (``/ws/studio/``) open all along, pinged every
  10-30 s, reopened when they open a studio page.

Each person does one thing at a time, with a think time between (``--think`` seconds on
average): random pictures, children, crosses, gene-slider drags (256 px previews, one in
flight, then 1024 px where the slider rests), edits, keeping and publishing, discarding and
restoring, gallery pages (HTML and API), the home page, work pages, likes, family trees,
neighbours, profiles, the library, studio pages and downloads (512-2048 px).

Errors: any 5xx answer, a connection error or timeout (``--timeout``), a studio socket that
closes without its client closing it or leaves a ping unanswered for 30 s. 429 answers are
counted apart: the client waits the ``retry_after`` (or ``Retry-After``) it is given, then
tries again. Any other unexpected answer (a 403 or 404, say) is counted apart as
"unexpected"; so are the server log's ERROR records. The run fails (exit status 1) on any of
them, and then keeps the data folder and the server's log.

Rate limits stay the server's defaults unless ``--env NAME=VALUE`` changes them; the output
names every variable the benchmark set. Memory: the RSS of the server process and its
children (the embedded PostgreSQL is measured apart) every 5 s; growth = at the end of the
load minus when it started.

The people are coroutines of this one process, on aiohttp (HTTP and WebSockets, about
0.15 ms of CPU a request, see ``bench/gallery.py``), so even a few dozen of them, each with
a browser's six connections and a socket, take next to nothing from the server's cores.
Locust would have brought gevent (which patches the standard library), a plug-in for
WebSockets and a dependency more, for a web UI a benchmark does not need.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import cpu_model, percentile  # noqa: E402
from mendel.processes import free_port  # noqa: E402

RAMP_S = 30.0
RSS_EVERY_S = 5.0
PONG_TIMEOUT_S = 30.0  # beyond uvicorn's own keep-alive (20 s)
BROWSER_PARALLEL = 6  # pictures a browser fetches at once from one host
API_SHARE = 5  # one pre-created person in API_SHARE is an API client
PICTURES_IN_VIEW = 12  # tiles a page shows before scrolling (the rest load lazily)
RESTORE_SHARE = 0.3
EAGER_SIZE = "256"  # rendered as soon as a work is made (breeding.images.EAGER_SIZES)
PROGRESS_EVERY_S = 30.0
PICTURE = re.compile(r'src="(/r/[^"]+\.webp)"')
WORK_LINK = re.compile(r'href="/w/([a-z0-9]+)/"')
MORE_LINK = re.compile(r'href="([^"]+)" data-more')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# What people do, and how often (relative weights).
BROWSER_ACTIONS = {
    "gallery_page": 12, "home": 3, "work_page": 12, "lineage": 4, "profile": 2, "library": 3,
    "random": 5, "children": 16, "cross": 6, "genes": 8, "edit": 2, "keep": 8, "discard": 2,
    "studio": 5, "download": 3, "gallery_api": 3,
}
API_ACTIONS = {
    "gallery_api": 14, "work_api": 12, "lineage": 5, "profile": 2, "library": 3, "random": 6,
    "children": 16, "cross": 7, "genes": 8, "edit": 2, "keep": 8, "discard": 2, "download": 3,
}

CREATE_USERS = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from rest_framework.authtoken.models import Token
spec = json.loads(os.environ["SOAK_USERS"])
User = get_user_model()
hashed = make_password(spec["password"])
User.objects.bulk_create([User(username=name, password=hashed) for name in spec["names"]])
tokens = {u.username: Token.objects.create(user=u).key
          for u in User.objects.filter(username__in=spec["api"])}
print("SOAK-TOKENS " + json.dumps(tokens))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the server ---------------------------------------------------------------------------


class Server:
    """``python -m mendel.serve`` on a fresh embedded PostgreSQL in ``home``."""

    def __init__(self, home: Path, overrides: dict[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "server.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "INPROCESS_WORKER", "HOST", "PORT")}
        env.update(MENDEL_PGDATA=str(home / "pgdata"), MEDIA_ROOT=str(home / "media"),
                   SECRET_KEY=secrets.token_urlsafe(40), HOST="127.0.0.1", PORT=str(self.port),
                   PYTHONUNBUFFERED="1")
        env.update(overrides)
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> None:
        import httpx

        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "mendel.serve"], cwd=ROOT,
                                     env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; its log: {self.log_path}")
            time.sleep(0.5)

    def manage(self, code: str, extra_env: dict[str, str]) -> str:
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                              env={**self.env, **extra_env}, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"manage.py shell failed:\n{done.stderr}")
        return done.stdout

    def rss(self) -> int:
        """Bytes resident in the server process and its children (PostgreSQL apart)."""
        import psutil

        try:
            top = psutil.Process(self.proc.pid)
            procs = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for p in procs:
            try:
                if p is top or not p.name().startswith(("postgres", "pg_ctl")):
                    total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def cpu_seconds(self) -> float:
        import psutil

        try:
            times = psutil.Process(self.proc.pid).cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return times.user + times.system

    def postmaster(self):
        import psutil

        try:
            pid = int((self.home / "pgdata" / "postmaster.pid").read_text().split()[0])
            return psutil.Process(pid)
        except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
            return None

    def database_pss(self) -> int:
        """Proportional set size of the embedded PostgreSQL (shared buffers counted once)."""
        import psutil

        top = self.postmaster()
        if top is None:
            return 0
        total = 0
        for p in [top, *top.children(recursive=True)]:
            try:
                total += p.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
                pass
        return total

    def media_bytes(self) -> int:
        return sum(f.stat().st_size for f in (self.home / "media").rglob("*") if f.is_file())

    def stop(self) -> None:
        """Ctrl-C, as an operator stops ``make run``; the embedded database stops with it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        postmaster = self.postmaster()
        if postmaster is not None:  # left running by a server that did not stop cleanly
            postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            postmaster.wait(30)
        if hasattr(self, "log_file"):
            self.log_file.close()

    def log_problems(self) -> list[str]:
        """The server log's ERROR records, each as its first line and the exception that
        ended its traceback (the whole log is kept for the rest)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if " ERROR " not in line and not line.startswith("ERROR:"):
                continue
            last = ""
            for after in lines[i + 1:]:
                if re.match(r"\d{4}-\d\d-\d\d |INFO:|WARNING:|ERROR:", after):
                    break
                if after and not after.startswith((" ", "\t", "Traceback", "The above", "During")):
                    last = after
            found.append(f"{line}{' -> ' + last if last else ''}")
        return found


# -- what the run saw ------------------------------------------------------------------------


class Tally:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.started = time.monotonic()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.requests = 0
        self.errors: list[str] = []
        self.error_kinds: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.socket = Counter()
        self.fetched: set[str] = set()  # pictures anyone has fetched: stored on the server
        # (id, owner, space) of public works; the space is None where the page did not say
        # (a gallery page's links) or the work has none (a published work)
        self.public: deque[tuple[str, str, str | None]] = deque(maxlen=600)
        self.signed_up = 0
        self.ended = deadline

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def at(self) -> str:
        return f"{time.monotonic() - self.started:7.1f}s"

    def error(self, kind: str, what: str) -> None:
        self.error_kinds[kind] += 1
        self.errors.append(f"{self.at()} {kind}: {what}")

    def add_public(self, work_id: str, owner: str | None, space: str | None = None) -> None:
        self.public.append((work_id, owner or "", space))


def retry_after(body: bytes, headers) -> float:
    try:
        return float(json.loads(body)["retry_after"])
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return float(headers.get("Retry-After", 5))
    except ValueError:
        return 5.0


# -- a person ---------------------------------------------------------------------------------


class Person:
    def __init__(self, tally: Tally, base: str, space: str, name: str, password: str,
                 token: str | None, signup: bool, rng: random.Random, think: float,
                 timeout: float) -> None:
        self.tally, self.base, self.space = tally, base, space
        self.name, self.password, self.token, self.signup = name, password, token, signup
        self.rng, self.think, self.timeout = rng, think, timeout
        self.browser = token is None
        self.works: dict[str, dict] = {}  # own creations, as the API answered them
        self.current: str | None = None
        # The browser's cache: a picture is kept five minutes (max-age=300) and then
        # revalidated; a soak of a few minutes may count each as fetched once.
        self.cache: set[str] = set()
        self.liked: set[str] = set()
        self.known_genes: list[dict] | None = None
        self.reopen_socket = False
        self.http = None

    # -- HTTP ----------------------------------------------------------------------------

    def csrf(self) -> str:
        from yarl import URL

        cookie = self.http.cookie_jar.filter_cookies(URL(self.base)).get("csrftoken")
        return cookie.value if cookie else ""

    async def call(self, kind: str, method: str, path: str, *, body=None, form=None,
                   expect=(200,)):
        """One request (again after a 429, once the server's wait is over); its
        (status, body, headers), or None when it failed (and was counted)."""
        import aiohttp

        accept = {"/api/": "application/json", "/r/": "image/webp,*/*"}.get(path[:5], "text/html")
        headers = {"Accept": accept}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        elif method != "GET":
            headers["Origin"] = self.base
            if form is None:
                headers["X-CSRFToken"] = self.csrf()
        while True:
            started = time.perf_counter()
            try:
                async with self.http.request(method, self.base + path, json=body, data=form,
                                             headers=headers, allow_redirects=False) as response:
                    data = await response.read()
                    status, answer_headers = response.status, response.headers
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.tally.requests += 1
                self.tally.error(kind, f"{method} {path}: {type(exc).__name__} {exc}")
                return None
            elapsed = time.perf_counter() - started
            self.tally.requests += 1
            if status == 429:
                self.tally.limited[kind] += 1
                wait = retry_after(data, answer_headers) + self.rng.uniform(0, 1)
                if wait >= self.tally.left():
                    await asyncio.sleep(self.tally.left())
                    return None
                await asyncio.sleep(wait)
                continue
            if status >= 500:
                self.tally.error(kind, f"{method} {path}: {status} {data[:200]!r}")
                return None
            if status not in expect:
                self.tally.unexpected.append(f"{self.tally.at()} {kind}: {method} {path}: {status} {data[:200]!r}")
                return None
            self.tally.latency[kind].append(elapsed)
            return status, data, answer_headers

    async def api(self, kind: str, method: str, path: str, body=None, expect=(200,)):
        answer = await self.call(kind, method, path, body=body, expect=expect)
        if answer is None or answer[0] == 204:
            return None
        return json.loads(answer[1])

    async def page(self, kind: str, path: str, pictures: int = PICTURES_IN_VIEW,
                   lists_public: bool = False) -> str | None:
        """An HTML page and the pictures it shows before scrolling; the works of a public
        list (gallery, home, profile) become works anyone may visit."""
        answer = await self.call(kind, "GET", path)
        if answer is None:
            return None
        html = answer[1].decode()
        await self.pictures(PICTURE.findall(html)[:pictures])
        if lists_public:
            for work_id in WORK_LINK.findall(html):
                self.tally.add_public(work_id, None)
        return html

    async def pictures(self, urls, kind: str | None = None) -> None:
        await asyncio.gather(*(self.picture(url, kind) for url in dict.fromkeys(urls)))

    async def picture(self, url: str, kind: str | None = None) -> None:
        if url in self.cache:
            return
        size = url.rsplit("/", 1)[1].split(".")[0]
        if kind is None:  # 256 px is rendered as soon as a work is made
            fresh = url not in self.tally.fetched and size != EAGER_SIZE
            kind = f"picture new {size}" if fresh else "picture stored"
        answer = await self.call(kind, "GET", url)
        if answer is not None:
            self.cache.add(url)
            self.tally.fetched.add(url)

    # -- what they do --------------------------------------------------------------------

    async def live(self, start_at: float) -> None:
        import aiohttp

        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        connector = aiohttp.TCPConnector(limit=BROWSER_PARALLEL)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as self.http:
            if self.browser and not await (self.sign_up() if self.signup else self.log_in()):
                return
            socket = asyncio.create_task(self.studio_socket()) if self.browser else None
            try:
                await self.act()
            finally:
                if socket is not None:
                    await socket

    async def act(self) -> None:
        actions = BROWSER_ACTIONS if self.browser else API_ACTIONS
        names, weights = list(actions), list(actions.values())
        action = "random"
        while True:
            try:
                await getattr(self, action)()
            except Exception as exc:  # this script's own bug: say so, and go on
                self.tally.unexpected.append(f"{self.tally.at()} {action}: the client failed: "
                                             f"{type(exc).__name__} {exc}")
            think = 0.3 + min(self.rng.expovariate(1 / self.think), 4 * self.think)
            await asyncio.sleep(min(self.tally.left(), think))
            if self.tally.over():
                return
            action = self.rng.choices(names, weights)[0]

    async def log_in(self) -> bool:
        answer = await self.call("html login form", "GET", "/accounts/login/")
        if answer is None:
            return False
        form = {"username": self.name, "password": self.password,
                "csrfmiddlewaretoken": self.form_token("html login form", answer[1])}
        return await self.call("log in", "POST", "/accounts/login/", form=form, expect=(302,)) is not None

    async def sign_up(self) -> bool:
        answer = await self.call("html sign-up form", "GET", "/accounts/signup/")
        if answer is None:
            return False
        form = {"username": self.name, "password1": self.password, "password2": self.password,
                "csrfmiddlewaretoken": self.form_token("html sign-up form", answer[1])}
        if await self.call("sign up", "POST", "/accounts/signup/", form=form, expect=(302,)) is None:
            return False
        self.tally.signed_up += 1
        return True

    def form_token(self, kind: str, html: bytes) -> str:
        found = CSRF_FIELD.search(html.decode())
        if found is None:
            self.tally.unexpected.append(f"{self.tally.at()} {kind}: no CSRF field in the form")
            return ""
        return found.group(1)

    def remember(self, made: list[dict]) -> None:
        for creation in made:
            self.works[creation["id"]] = creation
        if len(self.works) > 300:  # the oldest go out of mind, as in a long session
            for old in list(self.works)[:50]:
                del self.works[old]
                if self.current == old:
                    self.current = None

    def some_work(self, to_breed: bool = False) -> str | None:
        """A work to look at: a public one, or one of their own; to breed from, one of their
        space (a published work, or one of another space, cannot be a parent here)."""
        public = [p for p in self.tally.public if p[2] == self.space] if to_breed else self.tally.public
        if public and (not self.works or self.rng.random() < 0.7):
            return self.rng.choice(public)[0]
        return self.rng.choice(list(self.works)) if self.works else None

    async def breed(self, kind: str, path: str, body: dict) -> list[dict]:
        made = await self.api(kind, "POST", path, body, expect=(201,)) or []
        self.remember(made)
        await self.pictures([c["images"]["256"] for c in made], "picture of a new work 256")
        return made

    async def random(self) -> None:
        made = await self.breed("api random", f"/api/spaces/{self.space}/random/",
                                {"n": 1 if self.browser else self.rng.randint(1, 4)})
        if made:
            self.current = made[0]["id"]
            if self.browser:
                await self.studio()

    async def children(self) -> None:
        parent = self.current if self.current and self.rng.random() < 0.8 else self.some_work(to_breed=True)
        if parent is None:
            return await self.random()
        made = await self.breed("api children", f"/api/creations/{parent}/children/",
                                {"n": 8, "chaos": self.rng.choice([0.1, 0.3, 0.3, 0.6, 1.0])})
        if made and self.rng.random() < 0.5:
            self.current = self.rng.choice(made)["id"]

    async def cross(self) -> None:
        first = self.current or self.some_work(to_breed=True)
        second = self.some_work(to_breed=True)
        if first is None or second is None or first == second:
            return await self.children()
        mutation = self.rng.choice([0.0, 0.0, 0.1, 0.3])
        body = {"parents": [{"id": first, "content": self.rng.uniform(0.2, 2), "style": self.rng.uniform(0, 2)},
                            {"id": second, "content": self.rng.uniform(0, 2), "style": self.rng.uniform(0.2, 2)}],
                "n": 4 if mutation else 1, "mutation": mutation}
        made = await self.breed("api cross", "/api/cross/", body)
        if made:
            self.current = made[0]["id"]

    async def gene_list(self) -> list[dict]:
        if self.known_genes is None:
            self.known_genes = await self.api("api genes", "GET", f"/api/spaces/{self.space}/genes/")
        return self.known_genes or []

    async def genes(self) -> None:
        """A slider dragged: previews at 256 px one at a time, then 1024 px where it rests."""
        genes = await self.gene_list()
        if not genes or self.current is None:
            return await self.children()
        gene = self.rng.choice(genes)
        target = self.rng.uniform(gene["low"], gene["high"])
        steps = self.rng.randint(4, 12)
        for i in range(1, steps + 1):
            await self.preview(self.current, {gene["slug"]: target * i / steps}, 256)
            await asyncio.sleep(self.rng.uniform(0.03, 0.1))
        await asyncio.sleep(0.4)
        await self.preview(self.current, {gene["slug"]: target}, 1024)

    async def preview(self, source: str, amounts: dict, size: int) -> None:
        answer = await self.api("api preview", "POST", f"/api/creations/{source}/preview/",
                                {"genes": amounts, "size": size})
        if answer:
            await self.picture(answer["image"], f"preview picture {size}")

    async def edit(self) -> None:
        genes = await self.gene_list()
        if not genes or self.current is None:
            return await self.children()
        picked = self.rng.sample(genes, min(len(genes), self.rng.randint(1, 3)))
        amounts = {g["slug"]: round(self.rng.uniform(g["low"], g["high"]), 2) for g in picked}
        made = await self.breed("api edit", f"/api/creations/{self.current}/edit/", {"genes": amounts})
        if made:
            self.current = made[0]["id"]

    async def keep(self) -> None:
        """Keep a draft: public most often (it joins the gallery), else private or unlisted."""
        drafts = [w for w in self.works.values() if w["visibility"] == "draft"]
        if not drafts:
            return await self.children()
        work = self.rng.choice(drafts)
        visibility = self.rng.choices(["public", "private", "unlisted"], [6, 3, 1])[0]
        body = {"visibility": visibility}
        if self.rng.random() < 0.5:
            body["title"] = f"{self.rng.choice(['Study', 'Dusk', 'Tide', 'Ember'])} {self.rng.randint(1, 999)}"
        saved = await self.api("api keep", "PATCH", f"/api/creations/{work['id']}/", body)
        if saved:
            self.works[saved["id"]] = saved
            if visibility == "public":
                self.tally.add_public(saved["id"], self.name, self.space)

    async def discard(self) -> None:
        drafts = [w["id"] for w in self.works.values() if w["visibility"] == "draft" and w["id"] != self.current]
        if not drafts:
            return await self.keep()
        work_id = self.rng.choice(drafts)
        if await self.call("api discard", "DELETE", f"/api/creations/{work_id}/", expect=(204,)) is None:
            return
        if self.rng.random() < RESTORE_SHARE:  # Undo
            await self.api("api restore", "POST", f"/api/creations/{work_id}/restore/")
        else:
            self.works.pop(work_id, None)

    async def studio(self) -> None:
        """The studio page of their current work: a new page, so a new socket."""
        if self.current is None:
            return await self.random()
        self.reopen_socket = True
        await self.page("html studio", f"/studio/{self.current}/", pictures=PICTURES_IN_VIEW + 1)

    async def download(self) -> None:
        work_id = self.current or self.some_work()
        if work_id is None:
            return
        work = self.works.get(work_id) or await self.api("api creation", "GET", f"/api/creations/{work_id}/")
        if not work:
            return
        size = self.rng.choices([512, 1024, 2048], [3, 5, 1])[0]
        await self.picture(work["images"]["256"].replace("/256.webp", f"/{size}.webp"))

    async def gallery_page(self) -> None:
        order = self.rng.choice(["newest", "newest", "trending"])
        html = await self.page("html gallery", f"/gallery/?order={order}", lists_public=True)
        if html and (more := MORE_LINK.search(html)) and self.rng.random() < 0.4:
            await self.page("html gallery more", more.group(1).replace("&amp;", "&") + "&fragment=1",
                            lists_public=True)

    async def gallery_api(self) -> None:
        order = self.rng.choice(["newest", "trending"])
        listed = await self.api("api gallery", "GET", f"/api/gallery/?order={order}&space={self.space}&limit=48")
        if listed and listed.get("next") and self.rng.random() < 0.3:
            path = urlsplit(listed["next"])
            listed = await self.api("api gallery", "GET", f"{path.path}?{path.query}")
        if not listed:
            return
        for w in listed["results"]:
            self.tally.add_public(w["id"], w["owner"], w.get("space"))
        if listed["results"]:  # the picker's thumbnails, or an API client's small ones
            shown = self.rng.sample(listed["results"], min(6, len(listed["results"])))
            await self.pictures([w["images"]["256" if self.browser else "64"] for w in shown])

    async def home(self) -> None:
        await self.page("html home", "/", lists_public=True)

    async def work_page(self) -> None:
        work_id = self.some_work()
        if work_id is None:
            return await self.gallery_page()
        await self.page("html work", f"/w/{work_id}/")
        await self.maybe_like(work_id)

    async def work_api(self) -> None:
        work_id = self.some_work()
        if work_id is None:
            return await self.gallery_api()
        work = await self.api("api creation", "GET", f"/api/creations/{work_id}/")
        if work:
            await self.picture(work["images"]["1024"])
        near = await self.api("api neighbours", "GET", f"/api/creations/{work_id}/neighbours/?limit=12")
        for w in near or []:
            self.tally.add_public(w["id"], w["owner"], w.get("space"))
        await self.maybe_like(work_id)

    async def maybe_like(self, work_id: str) -> None:
        if work_id in self.works or self.rng.random() > 0.4:
            return
        unlike = work_id in self.liked and self.rng.random() < 0.3
        state = await self.api("api like", "DELETE" if unlike else "PUT", f"/api/creations/{work_id}/like/")
        if state:
            (self.liked.add if state["liked"] else self.liked.discard)(work_id)

    async def lineage(self) -> None:
        deep = [w["id"] for w in self.works.values() if w.get("depth", 0) >= 1]
        work_id = self.rng.choice(deep) if deep and self.rng.random() < 0.6 else self.some_work()
        if work_id is None:
            return
        if self.browser:
            await self.page("html lineage", f"/w/{work_id}/lineage/", pictures=20)
        else:
            for direction in ("up", "down"):
                await self.api("api lineage", "GET", f"/api/creations/{work_id}/lineage/?direction={direction}&depth=4")

    async def profile(self) -> None:
        owners = [owner for _, owner, _ in self.tally.public if owner]
        owner = self.rng.choice(owners) if owners else self.name
        if self.browser:
            await self.page("html profile", f"/u/{owner}/", lists_public=True)
        else:
            await self.api("api profile", "GET", f"/api/users/{owner}/")

    async def library(self) -> None:
        if self.browser:
            await self.page("html library", "/library/")
        else:
            self.remember(await self.api("api my creations", "GET", f"/api/creations/?space={self.space}") or [])

    # -- the studio socket ---------------------------------------------------------------

    async def studio_socket(self) -> None:
        """Open while the person is here; reopened on a studio page; a drop is an error."""
        import aiohttp

        url = self.base.replace("http", "ws", 1) + "/ws/studio/"
        while not self.tally.over():
            self.reopen_socket = False
            started = time.perf_counter()
            try:
                ws = await self.http.ws_connect(url, origin=self.base, timeout=aiohttp.ClientWSTimeout(ws_close=10))
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.tally.error("socket connect", f"{type(exc).__name__} {exc}")
                await asyncio.sleep(min(2.0, self.tally.left()))
                continue
            try:
                hello = await ws.receive(timeout=10)
                if hello.type != aiohttp.WSMsgType.TEXT or json.loads(hello.data).get("type") != "hello":
                    self.tally.error("socket connect", f"no hello: {hello.type} {hello.data!r:.200}")
                    continue
                self.tally.socket["connects"] += 1
                self.tally.latency["socket connect"].append(time.perf_counter() - started)
                await self.socket_session(ws)
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.tally.error("socket", f"{type(exc).__name__} {exc}")
            finally:
                await ws.close()

    async def socket_session(self, ws) -> None:
        sent: dict[int, float] = {}
        reader = asyncio.create_task(self.read_socket(ws, sent))
        next_ping = time.monotonic() + self.rng.uniform(2, 10)
        ping_id = 0
        try:
            while not reader.done():
                if self.reopen_socket or self.tally.over():
                    await ws.close()
                    await reader
                    return
                await asyncio.wait({reader}, timeout=0.5)
                now = time.monotonic()
                if sent and now - min(sent.values()) > PONG_TIMEOUT_S:
                    self.tally.error("socket ping", f"no pong in {PONG_TIMEOUT_S:.0f} s")
                    sent.clear()
                if now >= next_ping and not reader.done():
                    ping_id += 1
                    sent[ping_id] = time.perf_counter()
                    await ws.send_json({"type": "ping", "id": ping_id})
                    self.tally.socket["pings"] += 1
                    next_ping = now + self.rng.uniform(10, 30)
            if not (self.reopen_socket or self.tally.over()):
                self.tally.socket["dropped"] += 1
                self.tally.error("socket", f"dropped by the server (close code {ws.close_code})")
        finally:
            reader.cancel()

    async def read_socket(self, ws, sent: dict[int, float]) -> None:
        import aiohttp

        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                self.tally.error("socket", f"unexpected frame {message.type}")
                continue
            event = json.loads(message.data)
            if event.get("type") == "pong" and event.get("id") in sent:
                self.tally.latency["socket ping"].append(time.perf_counter() - sent.pop(event["id"]))
            elif event.get("type") == "error":
                self.tally.error("socket", f"error event {event!r:.200}")
            else:
                self.tally.socket[f"event {event.get('type')}"] += 1


# -- the run ------------------------------------------------------------------------------------


async def wait_for_genes(base: str, patience_s: float) -> tuple[str, float]:
    """The space to breed in, once its genes are found; (slug, seconds waited)."""
    import aiohttp

    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/spaces/") as response:
            space = (await response.json())[0]["slug"]
        while time.monotonic() - started < patience_s:
            async with http.get(f"{base}/api/spaces/{space}/genes/") as response:
                if response.status == 200 and await response.json():
                    break
            await asyncio.sleep(2)
        else:
            log(f"no genes after {patience_s:.0f} s: gene-slider drags will breed instead")
    return space, time.monotonic() - started


async def watch_memory(server: Server, samples: list[tuple[float, int]], started: float,
                       stop: asyncio.Event, tally: Tally) -> None:
    said = started
    while not stop.is_set():
        samples.append((time.monotonic() - started, server.rss()))
        if time.monotonic() - said >= PROGRESS_EVERY_S:
            said = time.monotonic()
            log(f"{tally.at()}: {tally.requests} requests, {len(tally.errors)} errors, "
                f"{sum(tally.limited.values())} 429s, server RSS {mb(samples[-1][1])} MB")
        if server.proc.poll() is not None:
            tally.error("server", f"the server exited with code {server.proc.returncode}")
            tally.deadline = time.monotonic()
            return
        try:
            await asyncio.wait_for(stop.wait(), RSS_EVERY_S)
        except TimeoutError:
            pass


async def soak(server: Server, args, people: list[dict], space: str) -> tuple[Tally, list]:
    duration = args.minutes * 60
    started = time.monotonic()
    tally = Tally(started + duration)
    ramp = min(RAMP_S, duration / 4)
    persons = [
        Person(tally, server.base, space, p["name"], p["password"], p.get("token"), p["signup"],
               random.Random(args.seed * 1000 + i), args.think, args.timeout)
        for i, p in enumerate(people)
    ]
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_memory(server, samples, started, stop, tally))
    await asyncio.gather(*(p.live(started + ramp * i / len(persons)) for i, p in enumerate(persons)))
    tally.ended = time.monotonic()  # each person ends the action under way at the deadline
    stop.set()
    await watcher
    samples.append((time.monotonic() - started, server.rss()))
    return tally, samples


def mb(n: float) -> float:
    return round(n / 2**20, 1)


def report(args, tally: Tally, samples, before: dict, after: dict,
           overrides: dict[str, str], people: list[dict], genes_wait: float, problems: list[str]) -> dict:
    rss_start, rss_end = samples[0][1], samples[-1][1]
    kinds = sorted(tally.latency)
    result = {
        "requests": tally.requests,
        "errors": len(tally.errors),
        "rate_limited": sum(tally.limited.values()),
        "unexpected": len(tally.unexpected),
        "p50_ms": {k: round(statistics.median(tally.latency[k]) * 1000, 1) for k in kinds},
        "p95_ms": {k: round(percentile(tally.latency[k], 95) * 1000, 1) for k in kinds},
        "counts": {k: len(tally.latency[k]) for k in kinds},
        "rate_limited_by_kind": dict(tally.limited),
        "errors_by_kind": dict(tally.error_kinds),
        "sockets": dict(tally.socket),
        "rss_start_mb": mb(rss_start),
        "rss_end_mb": mb(rss_end),
        "rss_peak_mb": mb(max(r for _, r in samples)),
        "rss_growth_mb": mb(rss_end - rss_start),
        # a leak keeps growing; a cache or an allocator filling up levels off
        "rss_growth_second_half_mb": mb(rss_end - next(r for t, r in samples if t >= samples[-1][0] / 2)),
        "rss_samples_mb": [[round(t), mb(r)] for t, r in samples],
        "database_pss_start_mb": mb(before["db"]),
        "database_pss_end_mb": mb(after["db"]),
        "server_cpu_s": round(after["cpu"] - before["cpu"], 1),
        "client_cpu_s": round(after["client_cpu"] - before["client_cpu"], 1),
        "media_mb": mb(after["media"]),
        "minutes": args.minutes,
        "drain_s": round(tally.ended - tally.deadline, 1),
        "users": len(people),
        "signed_up": tally.signed_up,
        "api_clients": sum(1 for p in people if p.get("token")),
        "think_s": args.think,
        "genes_wait_s": round(genes_wait, 1),
        "server_env": overrides,
        "server_log_errors": len(problems),
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "error_samples": tally.errors[:20],
        "unexpected_samples": tally.unexpected[:20],
    }
    if args.json:
        print(json.dumps(result))
        return result
    minutes = args.minutes
    print(f"Soak: {len(people)} people ({result['signed_up']} signed up through the form, "
          f"{result['api_clients']} API clients) for {minutes:g} min, think time {args.think:g} s, "
          f"against `make run` (mendel.serve, embedded PostgreSQL, in-process worker)")
    print(f"CPU: {result['cpu_model']}, {result['cpus']} cores; load average at the end "
          f"{result['load_average'][0]} (a shared machine: the server competes for it)")
    print("server environment set by the benchmark: "
          + (", ".join(f"{k}={v}" for k, v in overrides.items()) or "nothing beyond its data folders: default rate limits"))
    elapsed = tally.ended - tally.started
    print(f"requests {tally.requests} ({tally.requests / elapsed:.1f}/s; the actions under way at "
          f"the end took {result['drain_s']} s more), "
          f"errors {result['errors']}, 429 answers {result['rate_limited']} (waited out), "
          f"unexpected answers {result['unexpected']}")
    s = tally.socket
    print(f"studio sockets: {s['connects']} opened, {s['pings']} pings, {s['dropped']} dropped; "
          f"events: {', '.join(f'{k[6:]} {v}' for k, v in s.items() if k.startswith('event ')) or 'none'}")
    print(f"server RSS (MB): start {result['rss_start_mb']}, end {result['rss_end_mb']}, "
          f"peak {result['rss_peak_mb']}, growth {result['rss_growth_mb']:+} (goal < 100), "
          f"{result['rss_growth_second_half_mb']:+} of it in the second half; "
          f"PostgreSQL PSS {result['database_pss_start_mb']} -> {result['database_pss_end_mb']}")
    print(f"server CPU {result['server_cpu_s']} s, load clients' CPU {result['client_cpu_s']} s, "
          f"pictures stored {result['media_mb']} MB, waited {result['genes_wait_s']} s for genes")
    width = max((len(k) for k in kinds), default=4) + 2
    print(f"{'kind':<{width}} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'429':>5}")
    for k in kinds:
        print(f"{k:<{width}} {result['counts'][k]:>6} {result['p50_ms'][k]:>8} "
              f"{result['p95_ms'][k]:>8} {tally.limited.get(k, 0):>5}")
    for title, lines in (("errors", tally.errors), ("unexpected answers", tally.unexpected),
                         ("server log: errors", problems)):
        if lines:
            print(f"{title} (first 10 of {len(lines)}):")
            for line in lines[:10]:
                print("  " + line.replace("\n", "\n  "))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--signups", type=int, default=None,
                        help="of the users, how many sign up through the form (default: one in ten)")
    parser.add_argument("--think", type=float, default=4.0,
                        help="mean seconds between one person's actions")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a request is an error")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="set in the server's environment (say, RENDER_BUDGET_CPU_S_PER_MIN=600)")
    parser.add_argument("--genes-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and server log")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.env)
    signups = max(1, args.users // 10) if args.signups is None else min(args.signups, args.users)

    home = Path(tempfile.mkdtemp(prefix="mendel-soak-"))
    home.chmod(0o755)  # the embedded PostgreSQL runs as its own user when started by root
    server = Server(home, overrides)
    try:
        log(f"starting the server (data in {home})")
        server.start()
        space, genes_wait = asyncio.run(wait_for_genes(server.base, args.genes_timeout))
        run_id = secrets.token_hex(3)
        password = secrets.token_urlsafe(16)
        people = [{"name": f"soak{run_id}-{i}", "password": password, "signup": i < signups}
                  for i in range(args.users)]
        made = [p for p in people if not p["signup"]]
        api_names = [p["name"] for p in made[API_SHARE - 1::API_SHARE]]
        log(f"creating {len(made)} users in the database ({len(api_names)} with API tokens)")
        out = server.manage(CREATE_USERS, {"SOAK_USERS": json.dumps(
            {"names": [p["name"] for p in made], "api": api_names, "password": password})})
        tokens = json.loads(out.split("SOAK-TOKENS ", 1)[1].splitlines()[0])
        for p in people:
            if p["name"] in tokens:
                p["token"] = tokens[p["name"]]
        log(f"load for {args.minutes:g} min with {args.users} people")
        before = {"db": server.database_pss(), "cpu": server.cpu_seconds(), "client_cpu": time.process_time()}
        tally, samples = asyncio.run(soak(server, args, people, space))
        after = {"db": server.database_pss(), "cpu": server.cpu_seconds(),
                 "client_cpu": time.process_time(), "media": server.media_bytes()}
    finally:
        server.stop()
    problems = server.log_problems()
    result = report(args, tally, samples, before, after, overrides, people, genes_wait, problems)
    failed = bool(result["errors"] or result["unexpected"] or problems)
    if failed or args.keep:
        log(f"data folder and server log kept: {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
