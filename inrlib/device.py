"""Where code runs: CUDA when available, else the CPU (override with INR_DEVICE)."""
import os

import torch

DEVICE_ENV = "INR_DEVICE"


def device() -> torch.device:
    """CUDA when available, else CPU; the environment variable INR_DEVICE (e.g. cpu, cuda:1)
    overrides the choice."""
    forced = os.environ.get(DEVICE_ENV)
    if forced:
        try:
            return torch.device(forced)
        except RuntimeError as err:
            raise ValueError(f"{DEVICE_ENV}={forced!r} is not a device torch knows; set it to "
                             "cpu, cuda or cuda:N, or unset it") from err
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
