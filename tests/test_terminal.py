"""On an interactive terminal the long commands show a progress line (stderr is a real
pseudo-terminal here) and end as they do from cron."""
import os
import subprocess

from conftest import BIN


def on_terminal(*args):
    """Run an ogi-archive command with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    master, slave = os.openpty()
    try:
        proc = subprocess.run([str(BIN / "ogi-archive"), *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                              timeout=300)
    finally:
        os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal's other end is closed and read to its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.returncode, proc.stdout.decode(), seen.decode(errors="replace")


def test_crawl_and_reparse_on_a_terminal(tmp_path):
    db = tmp_path / "archive.db"
    code, out, terminal = on_terminal("demo", "--db", db)
    assert code == 0, terminal
    assert "reports:" in out and "Traceback" not in terminal
    code, out, terminal = on_terminal("reparse", "--db", db, "--workers", "1")
    assert code == 0, terminal
    assert "0 reports got a new parse" in out and "Traceback" not in terminal
