"""The site registry: each agency is a few lines of TOML, validated when loaded."""
import pathlib
import re
import tomllib
from dataclasses import dataclass, field

SITES_DIR = pathlib.Path(__file__).parent / "sites"
CMS_FAMILIES = ("trs", "hanweb", "catalog", "generic")
_ID = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


class RegistryError(ValueError):
    """A registry entry that cannot be used: names the file, the entry and the reason."""


@dataclass
class Site:
    id: str
    name: str
    start_urls: list
    cms: str = "generic"
    region_code: str = None
    home: str = None
    allowed_domains: list = field(default_factory=list)
    robots_obey: bool = True
    note: str = None

    def as_dict(self):
        return dict(self.__dict__)


def url_problem(url):
    """Why ``url`` is not a usable http(s) start URL, or None."""
    from urllib.parse import urlsplit

    if not isinstance(url, str) or not re.match(r"^https?://", url):
        return "not an http(s) URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as e:
        return f"a malformed URL: {e}"
    if not parts.hostname:
        return "no host"
    return None


def _validate(entry, where):
    known = set(Site.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("id", "name", "start_urls"):
        if not entry.get(key):
            raise RegistryError(f"{where}: '{key}' is required")
    if not _ID.match(entry["id"]):
        raise RegistryError(f"{where}: id {entry['id']!r} must be lower-case letters, digits and _ (3–64)")
    if entry.get("cms", "generic") not in CMS_FAMILIES:
        raise RegistryError(f"{where}: cms {entry['cms']!r} is not one of {', '.join(CMS_FAMILIES)}")
    urls = entry["start_urls"]
    if isinstance(urls, str) or not all(isinstance(u, str) and re.match(r"^https?://", u) for u in urls):
        raise RegistryError(f"{where}: start_urls must be a list of http(s) URLs")
    for u in urls:
        problem = url_problem(u)
        if problem:
            raise RegistryError(f"{where}: start URL {u!r}: {problem}")
    rc = entry.get("region_code")
    if rc is not None and not re.match(r"^\d{6}$", str(rc)):
        raise RegistryError(f"{where}: region_code {rc!r} must be a 6-digit GB/T 2260 code")
    return Site(**entry)


def load_file(path):
    """The sites of one TOML file."""
    path = pathlib.Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise RegistryError(f"{path}: {e}") from None
    sites = []
    for i, entry in enumerate(data.get("site", []), 1):
        sites.append(_validate(dict(entry), f"{path}: site #{i} ({entry.get('id', '?')})"))
    return sites


def load_sites(where=None):
    """All sites under ``where`` (a file or a folder; default: the shipped registry), ids unique."""
    where = pathlib.Path(where) if where else SITES_DIR
    files = sorted(where.rglob("*.toml")) if where.is_dir() else [where]
    sites, seen = [], {}
    for f in files:
        for s in load_file(f):
            if s.id in seen:
                raise RegistryError(f"{f}: id {s.id!r} is already used in {seen[s.id]}")
            seen[s.id] = f
            sites.append(s)
    return sites


def adhoc_site(url):
    """A site for ``crawl --start-url``: no registry entry, found by discovery from the URL."""
    from urllib.parse import urlparse

    problem = url_problem(url)
    if problem:
        raise RegistryError(f"{url!r}: {problem}")
    host = urlparse(url).hostname
    slug = "adhoc_" + re.sub(r"[^a-z0-9]+", "_", host.lower()).strip("_")[:50]
    return Site(id=slug, name=host, start_urls=[url], cms="generic", note="ad hoc: crawl --start-url")


def check_site(site, timeout=15.0):
    """(state, detail) for a site's first start URL: reachable, moved, blocked or unreachable."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlparse

    from .settings import USER_AGENT

    url = site.start_urls[0]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as r:
            return "reachable", f"{r.status} {url}"
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303, 307, 308):
            to = e.headers.get("Location", "")
            same = urlparse(to).hostname in (None, urlparse(url).hostname)
            return ("reachable" if same else "moved"), f"{e.code} → {to}"
        if e.code in (401, 403, 429, 503):
            return "blocked", f"{e.code} {url}"
        return "unreachable", f"{e.code} {url}"
    except (urllib.error.URLError, OSError) as e:
        return "unreachable", f"{getattr(e, 'reason', e)} {url}"
