import pytest

from crawler.registry import RegistryError, load_file, load_sites

from conftest import ROOT


def test_shipped_registry_loads_and_ids_are_unique():
    sites = load_sites()
    assert len({s.id for s in sites}) == len(sites)


def test_demo_registry_gives_each_site_a_fixed_host_of_its_own_that_resolves_nowhere():
    from urllib.parse import urlsplit

    sites = load_file(ROOT / "crawler/demo/sites.toml")
    hosts = {s.id: {urlsplit(u).hostname for u in s.start_urls + [s.home]} for s in sites}
    assert all(len(h) == 1 for h in hosts.values())
    assert len({h for hs in hosts.values() for h in hs}) == len(sites)
    assert all(h.endswith(".demo.ogi-archive.invalid") for hs in hosts.values() for h in hs)
    assert sorted(s.id for s in sites) == sorted(p.name for p in (ROOT / "crawler/demo/mirror").iterdir() if p.is_dir())


@pytest.mark.parametrize("entry,reason", [
    ('id = "ok_id"\nname = "x"', "'start_urls' is required"),
    ('id = "ok_id"\nname = "x"\nstart_urls = "http://x/"', "must be a list"),
    ('id = "ok_id"\nname = "x"\nstart_urls = ["ftp://x/"]', "must be a list of http"),
    ('id = "ok_id"\nname = "x"\nstart_urls = ["http://x/"]\ncms = "drupal"', "is not one of"),
    ('id = "ok_id"\nname = "x"\nstart_urls = ["http://x/"]\nregion_code = "4312"', "6-digit"),
    ('id = "ok_id"\nname = "x"\nstart_urls = ["http://x/"]\ncolour = "red"', "unknown key"),
])
def test_bad_entries_name_file_entry_and_reason(tmp_path, entry, reason):
    f = tmp_path / "bad.toml"
    f.write_text("[[site]]\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_file(f)
    assert "bad.toml" in str(e.value) and "site #1" in str(e.value) and reason in str(e.value)


def test_duplicate_ids_across_files_are_refused(tmp_path):
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text('[[site]]\nid = "dup_id"\nname = "x"\nstart_urls = ["http://x/"]\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="already used"):
        load_sites(tmp_path)


def test_shipped_registry_covers_every_province_and_a_hundred_more():
    from pipelines.region import code_level

    sites = load_sites()
    provincial_governments = {s.region_code[:2] for s in sites if code_level(s.region_code) == "provincial"
                              and s.name.endswith(("人民政府", "自治区人民政府"))}
    assert len(provincial_governments) == 31
    assert len(sites) >= 131
    assert all(s.note for s in sites), "every entry says where its URL was seen"


def test_sites_list_groups_by_province():
    from conftest import ogi

    proc = ogi("sites", "list")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.startswith("江苏省 (") for line in lines) and any(line.startswith("中央") for line in lines)
    assert lines[-1] == f"{len(load_sites())} sites"
