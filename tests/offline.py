"""Stand-ins for the network, shared by the data-loader tests: no test ever touches the internet."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest


def offline(*args, **kwargs):
    """What a download does with no network: a URLError, as urllib raises it."""
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def fake_download(payload: bytes):
    """A stand-in for torchvision's ``download_url`` that 'downloads' ``payload`` into the named file."""
    def download_url(url, root, filename=None, md5=None):
        (Path(root) / filename).write_bytes(payload)

    return download_url


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
