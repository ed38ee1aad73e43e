"""hadolint-compatible rules (DL codes): hadolint 2.15's codes and meanings, so that
suppressions and configuration carry over, decided on the model. ARG defaults are
resolved, BuildKit cache mounts and cleanup in the same RUN are understood, and the
cache rules read only the stages that end up in the final image. Each rule's documented
differences from hadolint are in its ``rules/<CODE>.toml``.

Where each rule lives:

- ``apt``: DL3008 DL3009 DL3014 DL3015 DL3027
- ``python``: DL3013 DL3042 (pip, uv)
- ``packages``: DL3016 (npm) DL3018 DL3019 (apk) DL3028 (gem) DL3060 (yarn) DL3062 (go)
- ``rpm``: DL3030 DL3032 DL3033 (yum) DL3034 DL3035 DL3036 DL3037 (zypper) DL3038 DL3040 DL3041 (dnf)
- ``stages``: DL3006 DL3007 DL3024 DL3026 DL3029 DL3063 DL3065 (FROM)
- ``copy``: DL3010 DL3020 DL3021 DL3022 DL3023 DL3045 DL3067 (COPY, ADD)
- ``shell``: DL3001 DL3003 DL3004 DL3046 DL3047 DL3059 DL4001 DL4005 DL4006 (RUN)
- ``instructions``: DL3000 DL3002 DL3011 DL3012 DL3025 DL3044 DL3057 DL3064 DL3066 DL4000 DL4003 DL4004
- ``labels``: DL3048 DL3049 DL3050 DL3051 DL3052 DL3053 DL3054 DL3055 DL3056 DL3058
- ``dockerfile``: DL1001 DL3043 DL3061 (the file as a whole)
"""

from dockerlint.checks.dl import apt, copy, dockerfile, instructions, labels, packages, python, rpm, shell, stages

__all__ = ["apt", "copy", "dockerfile", "instructions", "labels", "packages", "python", "rpm", "shell", "stages"]
