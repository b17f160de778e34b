"""What the benchmarks share: an application key and the environment get reads."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from testdata.fake_vonage import APP_ID  # noqa: E402


def use_new_app_key(directory: str):
    """Make an RSA key in directory, point convo's environment at it; return the key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = Path(directory, "private.key")
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    os.environ.update(VONAGE_APPLICATION_ID=APP_ID,
                      VONAGE_APPLICATION_PRIVATE_KEY_PATH=str(path), CONVO_STATE_DIR=directory)
    return key
