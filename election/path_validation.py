"""Running pyhanko-certvalidator's RFC 5280 path validation from synchronous code: the kiosk's card check
(``kiosk.card.pki``) and the verifier's ``package`` check (``election.verify.package_part``) both call
``validate_path``.

pyhanko's validator is asynchronous (it could fetch revocation information); here it never fetches, so the
validation is CPU-only and is run to completion on the calling thread, or, when that thread already runs an event
loop (the office's or a test's), on a helper thread of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from pyhanko_certvalidator import CertificateValidator


async def _validate(validator: CertificateValidator) -> Any:
    return await validator.async_validate_path()


def validate_path(validator: CertificateValidator) -> Any:
    """``validator.async_validate_path()`` to completion: the validated path, or pyhanko's exception."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_validate(validator))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="path-validation") as pool:
        return pool.submit(asyncio.run, _validate(validator)).result()
