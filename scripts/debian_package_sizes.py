"""Write dockerlint/knowledge/debian_packages.toml: what `apt-get install PACKAGE` adds to a
python:3.X-slim-bookworm image, for the Debian packages Dockerfiles install.

Not a test and not run by dockerlint: a maintenance script, run on a Debian 12 (bookworm)
system after `apt-get update`. It asks the ordinary apt client, in simulation mode, what
it would install on top of a status file that holds only the packages of the slim image
(so packages the image already has cost nothing), with and without Recommends, and sums the
Installed-Size fields (KiB) of Debian's package index over those packages.

The slim image's packages: every Priority: required package and apt (what debootstrap's
minbase variant installs, which Debian's docker images start from), plus what the
docker-library python slim Dockerfile adds (ca-certificates, netbase, tzdata and the
libraries CPython links against), each with its dependencies.

    python3 scripts/debian_package_sizes.py > dockerlint/knowledge/debian_packages.toml
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

# Packages installed by Dockerfiles of Python and ML services: the ones the judged
# repositories install, the seed reports' images, and the usual system dependencies of
# Python wheels (OpenCV's libGL, audio, PDF, OCR, database clients and headers).
PACKAGES = """
build-essential gcc g++ make cmake pkg-config autoconf automake libtool gfortran swig ccache
git curl wget unzip zip bzip2 xz-utils ca-certificates gnupg vim nano less sudo procps htop
netcat-openbsd iputils-ping dnsutils software-properties-common locales tini supervisor nginx
python3 python3-pip python3-dev python3-venv
libpq-dev libpq5 postgresql postgresql-contrib postgresql-client default-libmysqlclient-dev
libffi-dev libssl-dev zlib1g-dev libjpeg-dev libpng-dev libxml2-dev libxslt1-dev
libblas-dev liblapack-dev libatlas-base-dev libopenblas-dev libgomp1
ffmpeg libsndfile1 libsm6 libxext6 libxrender1 libgl1 libgl1-mesa-glx libglib2.0-0
tesseract-ocr poppler-utils graphviz espeak-ng
openjdk-17-jre-headless openjdk-17-jdk-headless default-jre-headless
nodejs npm redis-server chromium rustc cargo
""".split()

PYTHON_SLIM_EXTRAS = [
    "ca-certificates",
    "netbase",
    "tzdata",
    "libexpat1",
    "libffi8",
    "libgdbm6",
    "libgdbm-compat4",
    "libncursesw6",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libuuid1",
    "libnsl2",
    "libtirpc3",
    "libbz2-1.0",
    "liblzma5",
    "zlib1g",
]


def records() -> dict[str, str]:
    """Package name -> its record in the package index apt holds (one version each)."""
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    found = {}
    for block in text.split("\n\n"):
        match = re.search(r"^Package: (\S+)$", block, re.M)
        if match:
            found[match.group(1)] = block.strip()
    return found


def installed_size(record: str) -> int:
    match = re.search(r"^Installed-Size: (\d+)$", record, re.M)
    return int(match.group(1)) * 1024 if match else 0


def simulate(status: Path, packages: list[str], recommends: bool) -> list[str]:
    """The packages `apt-get install` would add on top of ``status``."""
    command = [
        "apt-get",
        "-s",
        "-q",
        "-o",
        f"Dir::State::status={status}",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        f"Dir::State::extended_states={status}.ext",
        "-o",
        f"APT::Install-Recommends={'true' if recommends else 'false'}",
        "install",
        *packages,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or result.stdout.strip())
    return re.findall(r"^Inst (\S+)", result.stdout, re.M)


def write_status(path: Path, names: set[str], index: dict[str, str]) -> None:
    blocks = []
    for name in sorted(names):
        record = index[name]
        lines = [line for line in record.split("\n") if not line.startswith(("Status:",))]
        lines.insert(1, "Status: install ok installed")
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n" if blocks else "", encoding="utf-8")
    Path(f"{path}.ext").write_text("", encoding="utf-8")


# buildpack-deps:bookworm, which the full python:3.X-bookworm images are built on: the
# packages its three Dockerfiles install (docker-library/buildpack-deps debian/bookworm
# curl/Dockerfile, scm/Dockerfile and Dockerfile).
BUILDPACK_DEPS = """
ca-certificates curl gnupg netbase wget git mercurial openssh-client subversion procps
autoconf automake bzip2 dpkg-dev file g++ gcc imagemagick libbz2-dev libc6-dev libcurl4-openssl-dev
libdb-dev libevent-dev libffi-dev libgdbm-dev libglib2.0-dev libgmp-dev libjpeg-dev libkrb5-dev
liblzma-dev libmagickcore-dev libmagickwand-dev libmaxminddb-dev libncurses5-dev libncursesw5-dev
libpng-dev libpq-dev libreadline-dev libsqlite3-dev libssl-dev libtool libwebp-dev libxml2-dev
libxslt-dev libyaml-dev make patch unzip xz-utils zlib1g-dev default-libmysqlclient-dev
""".split()


def toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def toml_list(names) -> str:
    return "[" + ", ".join(f'"{name}"' for name in sorted(names)) + "]"


def main() -> int:
    index = records()
    with tempfile.TemporaryDirectory() as folder:
        status = Path(folder) / "status"
        write_status(status, set(), index)
        required = [name for name, record in index.items() if re.search(r"^Priority: required$", record, re.M)]
        base = set(simulate(status, [*required, "apt"], recommends=False))
        write_status(status, base, index)
        base |= set(simulate(status, PYTHON_SLIM_EXTRAS, recommends=False))
        write_status(status, base, index)
        full = base | set(simulate(status, BUILDPACK_DEPS, recommends=False))
        closures = {}
        for name in PACKAGES:
            if name not in index:
                print(f"# {name}: not in bookworm main", file=sys.stderr)
                continue
            try:
                plain = simulate(status, [name], recommends=False)
                more = simulate(status, [name], recommends=True)
            except RuntimeError as error:
                print(f"# {name}: {error}", file=sys.stderr)
                continue
            closures[name] = (plain, [member for member in more if member not in plain])
    release = re.search(r"^Version: (\S+)$", index["base-files"], re.M).group(1)
    members = sorted({member for plain, extra in closures.values() for member in (*plain, *extra)})
    print(f"""# Debian packages: what `apt-get install NAME` adds to a python:3.X-slim-bookworm image.
#
# Generated by scripts/debian_package_sizes.py on {date.today().isoformat()} from the Debian 12 (bookworm,
# base-files {release}) main amd64 package index, with the apt client in simulation mode over a
# status file of the slim image's {len(base)} packages (Priority: required, apt, and what
# docker-library's python slim Dockerfile keeps): for each name, the packages apt would install
# without Recommends (`closure`) and the ones Recommends add (`recommends`); `[debian.installed]`
# gives each package's Installed-Size in bytes. An install of several names costs the union of
# their closures. Installed-Size counts documentation that Debian's slim images leave out, so
# figures run a little high. `[debian.present]` lists what the slim image and the full
# python:3.X-bookworm image (on buildpack-deps:bookworm) already hold.
""")
    print("[debian.packages]")
    for name, (plain, extra) in closures.items():
        print(f"{toml_key(name)} = {{ closure = {toml_list(plain)}, recommends = {toml_list(extra)} }}")
    print()
    print("[debian.installed]")
    for member in members:
        print(f"{toml_key(member)} = {installed_size(index[member]) if member in index else 0}")
    print()
    print("[debian.present]")
    print(f"slim = {toml_list(base)}")
    print(f"full = {toml_list(full - base)}  # in addition to slim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
