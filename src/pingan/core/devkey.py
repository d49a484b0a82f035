"""The development data key: generated once for the demo, kept under PINGAN_HOME, never for real data."""

import os
from pathlib import Path
from typing import TextIO

from pingan.core.crypto import generate_master_key

WARNING = (
    "\n"
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    "!! 警告：正在使用开发用数据密钥 {path}\n"
    "!! WARNING: using a DEVELOPMENT data key. It protects demo data only.\n"
    "!! 真实群众数据必须使用生产配置和单独保管的 PINGAN_DATA_KEY。\n"
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
)


def development_data_key(home: Path, *, warn: TextIO | None) -> str:
    path = home / "dev-data-key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_master_key())
    if warn is not None and not os.environ.get("PINGAN_DEV_KEY_WARNED"):
        warn.write(WARNING.format(path=path))
        # Warn once per process tree (the autoreloader and child commands inherit it).
        os.environ["PINGAN_DEV_KEY_WARNED"] = "1"
    return path.read_text().strip()
