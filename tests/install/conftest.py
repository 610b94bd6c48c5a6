"""Fixtures for the install tests (helpers in siphon_install.py)."""

import pytest

from siphon_install import do_install


@pytest.fixture(scope="session")
def install_build(tmp_path_factory):
    """A build directory of the install tests' own."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def installed(tmp_path_factory, install_build):
    """`make install DESTDIR=... PREFIX=/usr` done once for the session:
    the DESTDIR.  Tests must not change it (copy it first)."""
    return do_install(install_build, tmp_path_factory.mktemp("dest"))


@pytest.fixture
def clean_home(tmp_path):
    """An empty home and config dir, so no user theme or config counts."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    return home
