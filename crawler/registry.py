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
    if isinstance(urls, str) or not all(isinstance(u, str) and re.match(r"^(https?://|\{base\})", u) for u in urls):
        raise RegistryError(f"{where}: start_urls must be a list of http(s) URLs")
    rc = entry.get("region_code")
    if rc is not None and not re.match(r"^\d{6}$", str(rc)):
        raise RegistryError(f"{where}: region_code {rc!r} must be a 6-digit GB/T 2260 code")
    return Site(**entry)


def load_file(path, base=None):
    """The sites of one TOML file; ``{base}`` in URLs is replaced by ``base`` (a dict id → URL, or str)."""
    path = pathlib.Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise RegistryError(f"{path}: {e}") from None
    sites = []
    for i, entry in enumerate(data.get("site", []), 1):
        site = _validate(dict(entry), f"{path}: site #{i} ({entry.get('id', '?')})")
        if base is not None:
            b = base[site.id] if isinstance(base, dict) else base
            site.start_urls = [u.replace("{base}", b) for u in site.start_urls]
            site.home = site.home.replace("{base}", b) if site.home else None
        sites.append(site)
    return sites


def load_sites(where=None, base=None):
    """All sites under ``where`` (a file or a folder; default: the shipped registry), ids unique."""
    where = pathlib.Path(where) if where else SITES_DIR
    files = sorted(where.rglob("*.toml")) if where.is_dir() else [where]
    sites, seen = [], {}
    for f in files:
        for s in load_file(f, base):
            if s.id in seen:
                raise RegistryError(f"{f}: id {s.id!r} is already used in {seen[s.id]}")
            seen[s.id] = f
            sites.append(s)
    return sites
