"""A finished row says why in words a user can act on: the reason key of
a failure, a timeout or a skip sits in the row (SPEC.md "States")."""

from conftest import SLOW


def test_rows_show_the_reason_of_each_ending(server, screen, tmp_path):
    (tmp_path / "have.bin").write_bytes(b"complete already")
    urls = [server.url("/f/gone.bin", status=404),
            server.url("/f/stuck.bin", size=2_000_000, stall_after=300_000),
            server.url("/f/have.bin", size=1000)]
    s = screen(["--stall-timeout", "1s", "--retries", "0"] + urls)
    s.wait_row("gone.bin", lambda r: "failed" in r and "http_404" in r)
    s.wait_row("stuck.bin", lambda r: "timed" in r and "stall" in r, timeout=20 * SLOW)
    s.wait_row("have.bin", lambda r: "skipped" in r and "exists" in r)
